// Skeleton: the plugin itself arrives with its own issue. Until then the package exports only its name.
export const PACKAGE_NAME = '@trainhooks/plugin-act-cache';
