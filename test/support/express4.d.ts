// `express4` is an npm alias of express@4, so the tests can mount the same middleware under
// Express 4 and 5. Its API is typed with @types/express (5), whose shape the tests rely on.
declare module 'express4' {
  import express from 'express';
  export default express;
}
