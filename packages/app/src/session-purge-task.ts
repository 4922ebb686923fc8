// The hourly session purge is the server's (it owns http_session and its migration): the
// distribution hands it to the jobs runtime, in the server process and in the worker.
export { sessionPurgeTask } from '@kassa/server';
