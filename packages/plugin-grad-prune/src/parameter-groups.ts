import type { Unit } from '@trainhooks/core-hooks';
import type { ParameterGroup } from './convergence-monitor.js';
import type { GroupBy } from './options.js';

/**
 * Groups of the variables of the first `prunableUnits` units (the others are never pruned). A group may
 * not span units: a unit can be frozen while the next one trains, and a group must be either trained or not.
 */
export function parameterGroups(units: readonly Unit[], groupBy: GroupBy, prunableUnits: number): ParameterGroup[] {
  const groups = new Map<string, { name: string; unit: number; variables: Unit['variables'][number][] }>();
  units.slice(0, prunableUnits).forEach((unit, unitIndex) => {
    for (const variable of unit.variables) {
      if (!variable.trainable) continue;
      const name =
        groupBy === 'unit' ? unit.name : groupBy === 'variable' ? variable.name : `${unitIndex}:${groupBy(variable, unitIndex, unit.name)}`;
      const group = groups.get(name) ?? { name, unit: unitIndex, variables: [] };
      if (group.unit !== unitIndex) {
        throw new Error(`plugin-grad-prune: group '${name}' spans units ${group.unit} and ${unitIndex}; a group must stay in one unit`);
      }
      group.variables.push(variable);
      groups.set(name, group);
    }
  });
  return [...groups.values()];
}
