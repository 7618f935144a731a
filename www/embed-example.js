// The example portal: shows what it would upload. It uploads nothing.
import './embed.js';
import { plainReason } from './messages.js';

const drop = document.getElementById('drop');
drop.key = 'example-portal-demonstration-key'; // a real portal uses its project's secret key

function size(n) {
  return n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(2)} MB`;
}

drop.addEventListener('deidentified', (e) => {
  const { results } = e.detail;
  const rows = document.getElementById('upload-rows');
  const skipped = document.getElementById('not-uploaded');
  rows.replaceChildren();
  skipped.replaceChildren();
  let bytes = 0;
  let n = 0;
  for (const r of results) {
    if (r.report.status === 'written') {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'upload-row';
      const a = document.createElement('td');
      a.className = 'name';
      a.textContent = r.name;
      const b = document.createElement('td');
      b.textContent = size(r.blob.size);
      tr.append(a, b);
      rows.append(tr);
      bytes += r.blob.size;
      n++;
    } else {
      const li = document.createElement('li');
      li.textContent = `${r.report.input}: ${r.report.status}, ${plainReason(r.report.reason)}`;
      skipped.append(li);
    }
  }
  document.getElementById('upload-summary').textContent =
    `${n} de-identified file${n === 1 ? '' : 's'}, ${size(bytes)}, would be uploaded. The originals stay on this computer.`;
});
