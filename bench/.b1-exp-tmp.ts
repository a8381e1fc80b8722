import { generateDfdgRecordXml, parseDfdgRecordXml } from '../adapters/dfdg';
const texts = [...generateDfdgRecordXml(20000, { seed: 7 })].map((r) => r.xml);
const out: number[] = [];
for (let k = 0; k < 4; k++) { const u = process.cpuUsage(); for (const t of texts) parseDfdgRecordXml(t); const d = process.cpuUsage(u); out.push(Math.round(texts.length / ((d.user + d.system) / 1e6))); }
console.log(out.join(' '));
