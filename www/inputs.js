// Turns what the user gave (picked files, a picked folder, a drop of files and folders, ZIP archives)
// into a flat list of input items, without reading file contents: every item reads its bytes later,
// in a worker, one file at a time, so a batch larger than memory works.
//
// An item: {name, size, source, error?}. `name` is the path as the user knows it (it becomes the
// report's `input`); `source` is what worker.js reads ({blob} or a ZIP entry); `error` marks an item
// that cannot be read at all (an encrypted ZIP entry, a damaged archive).

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;

function isZipName(name) {
  return /\.zip$/i.test(name);
}

async function readRange(blob, start, end) {
  return new DataView(await blob.slice(start, end).arrayBuffer());
}

/** Lists the entries of a ZIP archive from its central directory (Zip64 included). */
export async function listZip(file) {
  const size = file.size;
  const tailStart = Math.max(0, size - (65535 + 22));
  const tail = await readRange(file, tailStart, size);
  let at = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new Error('not a ZIP archive, or the archive is incomplete');
  let count = tail.getUint16(at + 10, true);
  let cdSize = tail.getUint32(at + 12, true);
  let cdOffset = tail.getUint32(at + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = at - 20;
    if (loc < 0 || tail.getUint32(loc, true) !== EOCD64_LOCATOR) throw new Error('the ZIP64 directory is missing');
    const recOffset = Number(tail.getBigUint64(loc + 8, true));
    const rec = await readRange(file, recOffset, recOffset + 56);
    if (rec.getUint32(0, true) !== EOCD64) throw new Error('the ZIP64 directory is damaged');
    count = Number(rec.getBigUint64(32, true));
    cdSize = Number(rec.getBigUint64(40, true));
    cdOffset = Number(rec.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > size) throw new Error('the ZIP archive is incomplete');
  const cd = await readRange(file, cdOffset, cdOffset + cdSize);
  const bytes = new Uint8Array(cd.buffer);
  const utf8 = new TextDecoder('utf-8');
  const latin = new TextDecoder('latin1');
  const entries = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.byteLength || cd.getUint32(p, true) !== CENTRAL) throw new Error('the ZIP directory is damaged');
    const flags = cd.getUint16(p + 8, true);
    const method = cd.getUint16(p + 10, true);
    const crc = cd.getUint32(p + 16, true);
    let compressedSize = cd.getUint32(p + 20, true);
    let uncompressedSize = cd.getUint32(p + 24, true);
    const nameLen = cd.getUint16(p + 28, true);
    const extraLen = cd.getUint16(p + 30, true);
    const commentLen = cd.getUint16(p + 32, true);
    let offset = cd.getUint32(p + 42, true);
    const nameBytes = bytes.subarray(p + 46, p + 46 + nameLen);
    const name = (flags & 0x800 ? utf8 : latin).decode(nameBytes);
    // Zip64 extended information
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cd.getUint16(e, true);
      const len = cd.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (uncompressedSize === 0xffffffff) {
          uncompressedSize = Number(cd.getBigUint64(q, true));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(cd.getBigUint64(q, true));
          q += 8;
        }
        if (offset === 0xffffffff) offset = Number(cd.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    p = extraEnd + commentLen;
    if (name.endsWith('/')) continue; // a folder
    entries.push({ name, flags, method, crc, compressedSize, size: uncompressedSize, offset });
  }
  return entries;
}

/** The items of one picked or dropped file (a ZIP gives one item per entry). */
export async function itemsOfFile(file, path) {
  const name = path || file.webkitRelativePath || file.name;
  if (isZipName(name) && file.size >= 22) {
    let entries;
    try {
      entries = await listZip(file);
    } catch (e) {
      return [{ name, size: file.size, source: null, error: `the ZIP archive could not be read: ${e.message}` }];
    }
    return entries.map((en) => {
      const item = { name: `${name}/${en.name}`, size: en.size, source: null };
      if (en.flags & 1) item.error = 'the ZIP entry is encrypted (password-protected); unpack it first';
      else if (en.method !== 0 && en.method !== 8) item.error = `the ZIP entry uses compression method ${en.method}, which is not supported`;
      else {
        item.source = {
          zip: file.slice(en.offset, en.offset + 30 + 2 * 65535 + en.compressedSize),
          method: en.method,
          compressedSize: en.compressedSize,
          size: en.size,
          crc: en.crc,
        };
      }
      return item;
    });
  }
  return [{ name, size: file.size, source: { blob: file } }];
}

/** Items of a FileList or array of Files (from an <input type=file>, with or without webkitdirectory). */
export async function itemsOfFiles(files) {
  const out = [];
  for (const f of Array.from(files)) out.push(...(await itemsOfFile(f)));
  return sortItems(out);
}

function sortItems(items) {
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// ---- drag and drop ----

function readAllEntries(reader) {
  return new Promise((resolve, reject) => {
    const all = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (!batch.length) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

function entryFile(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walkEntry(entry, files) {
  if (entry.isFile) {
    const file = await entryFile(entry);
    files.push({ file, path: entry.fullPath.replace(/^\//, '') });
  } else if (entry.isDirectory) {
    for (const child of await readAllEntries(entry.createReader())) await walkEntry(child, files);
  }
}

async function walkHandle(handle, prefix, files) {
  if (handle.kind === 'file') {
    files.push({ file: await handle.getFile(), path: prefix + handle.name });
  } else {
    for await (const child of handle.values()) await walkHandle(child, `${prefix}${handle.name}/`, files);
  }
}

/**
 * The items of a drop. Must be called synchronously from the drop event handler: the entries of a
 * DataTransfer are only available during the event; the walk itself is asynchronous.
 */
export function itemsOfDrop(dataTransfer) {
  const tasks = [];
  const loose = [];
  for (const item of Array.from(dataTransfer.items || [])) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) {
      tasks.push({ entry });
    } else if (typeof item.getAsFileSystemHandle === 'function') {
      const file = item.getAsFile();
      tasks.push({ handle: item.getAsFileSystemHandle(), file });
    } else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (!tasks.length && !loose.length && dataTransfer.files) loose.push(...Array.from(dataTransfer.files));
  return (async () => {
    const files = loose.map((file) => ({ file, path: file.name }));
    for (const t of tasks) {
      if (t.entry) await walkEntry(t.entry, files);
      else {
        const h = await t.handle.catch(() => null);
        if (h) await walkHandle(h, '', files);
        else if (t.file) files.push({ file: t.file, path: t.file.name });
      }
    }
    const items = [];
    for (const { file, path } of files) items.push(...(await itemsOfFile(file, path)));
    return sortItems(items);
  })();
}
