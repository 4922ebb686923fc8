export { defineMachine, type Edge, type Machine, type MachineDefinition, type StateSet } from './define-machine';
