import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../src/errors.js';
import { nextPlanState, planSteps, restoreStates, stepAllowed, terminalStates } from '../src/restore/rules.js';

describe("a restore plan's lifecycle (pure rules)", () => {
  it('moves PLANNED to RESTORING on execute, RESTORING to SUSPENDED on finish, SUSPENDED to ACTIVE on resume', () => {
    expect(nextPlanState('execute', 'PLANNED')).toBe('RESTORING');
    expect(nextPlanState('finish', 'RESTORING')).toBe('SUSPENDED');
    expect(nextPlanState('resume', 'SUSPENDED')).toBe('ACTIVE');
  });

  it('cancels a PLANNED or RESTORING plan, and fails only a RESTORING one', () => {
    expect(nextPlanState('cancel', 'PLANNED')).toBe('CANCELLED');
    expect(nextPlanState('cancel', 'RESTORING')).toBe('CANCELLED');
    expect(nextPlanState('fail', 'RESTORING')).toBe('FAILED');
    expect(stepAllowed('fail', 'PLANNED')).toBe(false);
  });

  it('refuses a step from a state it does not start from with INVALID_STATE, naming the states it needs', () => {
    const refused = (() => {
      try {
        return nextPlanState('execute', 'CANCELLED');
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(InvalidStateError);
    expect(refused).toMatchObject({
      code: 'INVALID_STATE',
      message: 'The plan is CANCELLED; only a PLANNED plan can be executed',
    });
    expect(() => nextPlanState('cancel', 'SUSPENDED')).toThrow(
      'The plan is SUSPENDED; only a PLANNED or RESTORING plan can be cancelled',
    );
  });

  it('lets no step leave a terminal state', () => {
    const steps = Object.keys(planSteps) as (keyof typeof planSteps)[];
    for (const state of terminalStates) expect(steps.filter((step) => stepAllowed(step, state))).toEqual([]);
    expect(restoreStates.filter((s) => !terminalStates.includes(s))).toEqual(['PLANNED', 'RESTORING', 'SUSPENDED']);
  });
});
