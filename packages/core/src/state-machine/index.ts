export { defineMachine, type Edge, type EdgeEffects, type Machine, type MachineDefinition, type StateSet, type Transition } from './define-machine';
