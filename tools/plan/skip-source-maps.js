// Preloaded by `npm run plan` before esbuild-register. esbuild-register turns on Node's source
// maps, which makes Node read and parse the source map of every module it loads, the SDKs'
// included: a tenth of the plan's time. The plan reports user errors as one line each, never
// as stack traces, so it keeps them off.
process.setSourceMapsEnabled = () => {};
