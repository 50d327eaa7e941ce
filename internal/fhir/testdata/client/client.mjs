// Drives PSIMS's FHIR API with fhir-kit-client, a FHIR client library,
// as a local risk management system would: read the CapabilityStatement,
// create an AdverseEvent, read it, update it with If-Match, read its
// history, and search page by page. Prints what it saw as one JSON line.
//
// Usage: node client.mjs BASE_URL KEY RESOURCE.json
import { readFileSync } from 'node:fs';
import { Client } from 'fhir-kit-client';

const [base, key, file] = process.argv.slice(2);
const client = new Client({
  baseUrl: base + '/adverse-event/fhir',
  customHeaders: { 'Ocp-Apim-Subscription-Key': key },
});
const out = {};
const metadata = await client.capabilityStatement();
out.fhirVersion = metadata.fhirVersion;
const created = await client.create({ resourceType: 'AdverseEvent', body: JSON.parse(readFileSync(file, 'utf8')) });
out.id = created.id;
const read = await client.read({ resourceType: 'AdverseEvent', id: created.id });
out.readVersion = read.meta.versionId;
read.event.text = 'Changed through fhir-kit-client.';
const updated = await client.update({
  resourceType: 'AdverseEvent', id: created.id, body: read,
  options: { headers: { 'If-Match': 'W/"' + read.meta.versionId + '"' } },
});
out.updatedVersion = updated.meta.versionId;
out.updatedText = updated.event.text;
try {
  await client.update({
    resourceType: 'AdverseEvent', id: created.id, body: read,
    options: { headers: { 'If-Match': 'W/"1"' } },
  });
  out.staleUpdate = 'accepted';
} catch (e) {
  out.staleUpdate = e.response?.status;
}
const history = await client.history({ resourceType: 'AdverseEvent', id: created.id });
out.history = history.entry.map((e) => e.resource.meta.versionId);
out.searched = [];
let page = await client.search({ resourceType: 'AdverseEvent', searchParams: { _count: 1 } });
while (page) {
  for (const e of page.entry ?? []) out.searched.push(e.resource.id);
  page = await client.nextPage({ bundle: page });
}
console.log(JSON.stringify(out));
