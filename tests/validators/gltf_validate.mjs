// Validate glb/gltf files with the Khronos glTF validator (npm gltf-validator).
// Usage: node gltf_validate.mjs FILE...
// Prints one JSON object {"<file>": {"numErrors", "numWarnings", "numInfos", "messages": [...]}} and exits
// 1 when any file has errors (2 when a file cannot be read).
import { readFile } from 'node:fs/promises';
import validator from 'gltf-validator';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node gltf_validate.mjs FILE...');
  process.exit(2);
}

const results = {};
let errors = 0;
for (const file of files) {
  let bytes;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    console.error(`cannot read ${file}: ${err.message}`);
    process.exit(2);
  }
  const report = await validator.validateBytes(bytes, {
    uri: file,
    maxIssues: 200,
    // External resources are not expected: our glb files are self-contained.
    externalResourceFunction: (uri) => Promise.reject(new Error(`external resource ${uri}`)),
  });
  const { numErrors, numWarnings, numInfos, messages } = report.issues;
  results[file] = { numErrors, numWarnings, numInfos, messages };
  errors += numErrors;
}
console.log(JSON.stringify(results, null, 1));
process.exit(errors > 0 ? 1 : 0);
