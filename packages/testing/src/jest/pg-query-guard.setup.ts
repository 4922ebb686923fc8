import { describeOverlaps, installPgQueryGuard } from '../pg-query-guard';

// Jest setup (setupFilesAfterEnv): a test that hands a busy pg client another query fails, and so
// does a file whose hooks or background work do it outside any test.
const guard = installPgQueryGuard();

afterEach(() => {
  const problem = describeOverlaps(guard.take());
  if (problem) throw new Error(problem);
});

afterAll(() => {
  const problem = describeOverlaps(guard.take());
  if (problem) throw new Error(problem);
});
