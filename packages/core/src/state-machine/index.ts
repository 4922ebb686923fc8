export { defineMachine, type Edge, type Machine, type MachineDefinition } from './define-machine';
