// @trainhooks/backend: picks and starts the tfjs backend (threaded wasm included) and registers our
// faster kernels. @trainhooks/backend/internal holds the kernel lists and registries tests use.
export { setupBackend, backendInfo, disposeBackend, type BackendOptions, type BackendSetup } from './setup-backend.js';
export { AUTO_BACKEND_ORDER, choiceForBackend, type BackendChoice, type ConcreteBackend, type SelectedBackend } from './backend-choice.js';
