// The browser benchmark (run by scripts/bench-web; not a test). Prints a table and writes
// .cache/bench/web-results.json.
//
// 1. Throughput: the page in Chromium on the core benchmark's data sets (ct300: 300 synthetic 512×512
//    CT slices; corpus: the real registry files), with 1 worker and with N = cores workers, from the
//    files given to the folder input to the end of the run (both passes, reading, transfers, outputs
//    kept as Blobs). Compared per file with the native CLI (--jobs 1 and --jobs N) on the same files.
// 2. Memory: ct300 repeated to about BENCH_WEB_BIG_GB (default 2) GB (hard links, no extra disk), plus
//    the same slices as one 157 MB multi-frame file (the largest file), run in the page with N workers
//    and then streamed out as one ZIP through the service worker; sampled every 0.2 s: the page's JS
//    heap (CDP Performance.getMetrics), page + workers memory (performance.measureUserAgentSpecificMemory,
//    the page being cross-origin isolated here), and the resident memory of Chromium's processes
//    (renderer: page, workers and their wasm memory; browser: Blob storage). The renderer's growth is
//    taken over its size once the engine and models are loaded (a first file processed).
//
// Environment: BENCH_WEB_RUNS (3), BENCH_WEB_BIG_GB (2; 0 skips part 2), BENCH_WEB_THROUGHPUT (0 skips
// part 1), BENCH_WEB_SETS (ct300,corpus),
// SERVE_PKG_DIR (another build of pkg/).

import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, mkdirSync, linkSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, CHROMIUM, CHROMIUM_ARGS, CLI, startServer } from './helpers.mjs';

const RUNS = Number(process.env.BENCH_WEB_RUNS || 3);
const BIG_GB = Number(process.env.BENCH_WEB_BIG_GB ?? 2);
const SETS = (process.env.BENCH_WEB_SETS || 'ct300,corpus').split(',');
const THROUGHPUT = process.env.BENCH_WEB_THROUGHPUT !== '0'; // 0: only the memory part
const N = cpus().length;
const KEY = 'bench-web-key';
const log = (...a) => console.error('[bench-web]', ...a);

function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const DATASETS = {
  ct300: join(ROOT, '.cache', 'bench', 'ct300'),
  corpus: existsSync(join(ROOT, '.cache', 'bench', 'sets', 'corpus')) ? join(ROOT, '.cache', 'bench', 'sets', 'corpus') : join(ROOT, '.cache', 'corpus'),
};

function dataset(name) {
  const dir = DATASETS[name];
  const files = filesUnder(dir);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const largest = files.reduce((m, f) => Math.max(m, statSync(f).size), 0);
  return { name, dir, files: files.length, bytes, largest };
}

// ---- native CLI ----

function outTmp() {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return join(base, `bench-web-cli-${process.pid}-${Math.random().toString(36).slice(2)}`);
}

function native(ds, jobs) {
  const times = [];
  let written = 0;
  for (let r = 0; r < RUNS + 1; r++) {
    const out = outTmp();
    const t = process.hrtime.bigint();
    spawnSync(CLI, ['--key', KEY, '--jobs', String(jobs), '--out', out, ds.dir], { stdio: 'ignore' });
    const secs = Number(process.hrtime.bigint() - t) / 1e9;
    if (r > 0) times.push(secs); // the first run warms the page cache
    written = filesUnder(out).filter((f) => f.endsWith('.dcm')).length;
    rmSync(out, { recursive: true, force: true });
  }
  const s = median(times);
  return { jobs, seconds: s, files_per_s: ds.files / s, written };
}

// ---- browser ----

async function launch(extra = []) {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extra], headless: true });
}

async function openPage(browser, url, workers, store = 'auto') {
  const context = await browser.newContext({ acceptDownloads: true });
  await context.addInitScript(() => Object.defineProperty(window, 'showSaveFilePicker', { value: undefined }));
  const page = await context.newPage();
  await page.goto(`${url}?workers=${workers}&store=${store}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 }).catch(() => {});
  return { context, page };
}

async function runInPage(page, dir, timeout = 300_000) {
  if (await page.isEnabled('[data-testid="clear"]')) await page.click('[data-testid="clear"]');
  await page.setInputFiles('[data-testid="folder-input"]', dir);
  try {
    await page.waitForSelector('[data-testid="progress"]:is([data-state="done"], [data-state="error"], [data-state="cancelled"])', { timeout });
  } catch (e) {
    throw new Error(`no end of run after ${timeout / 1000} s: ${await page.textContent('[data-testid="progress"]')}`);
  }
  const st = await page.getAttribute('[data-testid="progress"]', 'data-state');
  if (st !== 'done') throw new Error(`run ended ${st}: ${await page.textContent('[data-testid="progress"]')}`);
  return page.$eval('[data-testid="progress"]', (el) => ({
    ms: Number(el.dataset.ms),
    scanMs: Number(el.dataset.scanMs),
    engineMs: Number(el.dataset.engineMs),
    written: Number((/(\d+) de-identified/.exec(el.textContent) || [])[1] || 0),
    store: el.dataset.store,
    text: el.textContent.replace(/\s+/g, ' ').trim(),
  }));
}

// ---- memory sampling ----

// Chromium's processes under `rootPid` (pid, rss in bytes, args).
function chromiumProcesses(rootPid) {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l);
    return { pid: +m[1], ppid: +m[2], rss: +m[3] * 1024, args: m[4] };
  });
  const inTree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of rows) if (!inTree.has(r.pid) && inTree.has(r.ppid)) inTree.add(r.pid), (grew = true);
  }
  return rows.filter((r) => inTree.has(r.pid) && /chrom/i.test(r.args.split(' ')[0]));
}

function processTree(rootPid) {
  const sum = { browser: 0, renderer: 0, other: 0 };
  for (const r of chromiumProcesses(rootPid)) {
    const type = /--type=([\w-]+)/.exec(r.args);
    if (!type) sum.browser += r.rss;
    else if (type[1] === 'renderer') sum.renderer += r.rss;
    else sum.other += r.rss;
  }
  return sum;
}

// CPU time (seconds) of Chromium's processes under `rootPid`, by process type and thread name (digits
// dropped: "ThreadPoolForeg", "DedicatedWorker"), read from /proc; a process's exited threads are
// counted under "(exited)". Taken before and after a run, it shows where the page's CPU goes.
function cpuByThread(rootPid) {
  const tick = 100; // USER_HZ on Linux
  const times = (statText) => {
    const f = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / tick; // utime + stime
  };
  const out = new Map();
  const add = (k, v) => out.set(k, (out.get(k) || 0) + v);
  for (const r of chromiumProcesses(rootPid)) {
    const type = (/--type=([\w-]+)/.exec(r.args) || [, 'browser'])[1];
    const sub = (/--utility-sub-type=([\w.-]+)/.exec(r.args) || [, ''])[1];
    const kind = sub ? `${type}(${sub.split('.').pop()})` : type;
    try {
      let live = 0;
      for (const tid of readdirSync(`/proc/${r.pid}/task`)) {
        const t = times(readFileSync(`/proc/${r.pid}/task/${tid}/stat`, 'utf8'));
        const name = readFileSync(`/proc/${r.pid}/task/${tid}/comm`, 'utf8').trim().replace(/[\d/:]+$/, '').trim();
        add(`${kind}: ${name}`, t);
        live += t;
      }
      add(`${kind}: (exited)`, times(readFileSync(`/proc/${r.pid}/stat`, 'utf8')) - live);
    } catch {} // the process ended meanwhile
  }
  return out;
}

function cpuDelta(before, after) {
  const d = new Map();
  for (const [k, v] of after) {
    const x = v - (before.get(k) || 0);
    if (x > 0.005) d.set(k, x);
  }
  return [...d].sort((a, b) => b[1] - a[1]);
}

async function sampleMemory(page, cdp, rootPid, peaks) {
  try {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const heap = metrics.find((m) => m.name === 'JSHeapUsedSize');
    if (heap) peaks.pageHeap = Math.max(peaks.pageHeap, heap.value);
  } catch {}
  const t = processTree(rootPid);
  peaks.renderer = Math.max(peaks.renderer, t.renderer);
  peaks.browser = Math.max(peaks.browser, t.browser);
  peaks.other = Math.max(peaks.other, t.other);
}

const MULTIFRAME = join(ROOT, '.cache', 'bench', 'multiframe', 'CT-300-frames.dcm');

function makeBigFolder(ct, targetBytes) {
  const dir = join(ROOT, '.cache', 'bench', 'web-big');
  rmSync(dir, { recursive: true, force: true });
  const files = filesUnder(ct);
  let total = 0;
  let k = 0;
  if (existsSync(MULTIFRAME)) {
    mkdirSync(join(dir, 'r00'), { recursive: true });
    linkSync(MULTIFRAME, join(dir, 'r00', 'CT-300-frames.dcm'));
    total += statSync(MULTIFRAME).size;
  }
  while (total < targetBytes) {
    const sub = join(dir, `r${String(++k).padStart(2, '0')}`);
    mkdirSync(sub, { recursive: true });
    for (const f of files) {
      const dest = join(sub, f.split('/').pop());
      try {
        linkSync(f, dest);
      } catch {
        copyFileSync(f, dest);
      }
      total += statSync(f).size;
    }
  }
  const all = filesUnder(dir);
  return { dir, files: all.length, bytes: total, largest: all.reduce((m, f) => Math.max(m, statSync(f).size), 0) };
}

// ---- main ----

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing (cargo build --release --features cli)`);
  const sets = SETS.map(dataset);
  const results = { created: new Date().toISOString(), cpus: N, runs: RUNS, chromium: null, sets: [], memory: null };

  log('native CLI');
  const nat = {};
  for (const ds of THROUGHPUT ? sets : []) {
    nat[ds.name] = { 1: native(ds, 1), [N]: native(ds, N) };
    log(`  ${ds.name}: ${nat[ds.name][1].files_per_s.toFixed(0)} files/s (1 job), ${nat[ds.name][N].files_per_s.toFixed(0)} files/s (${N} jobs)`);
  }

  process.env.SERVE_COEP = '1';
  const server = await startServer();
  const browser = await launch(['--enable-blink-features=ForceEagerMeasureMemory']);
  results.chromium = browser.version();
  try {
    // outputs kept in memory (the default below 256 MB), then the same on disk (OPFS) with N workers
    const configs = THROUGHPUT ? [...new Set([1, N])].map((w) => ({ workers: w, store: 'auto' })) : [];
    if (THROUGHPUT) configs.push({ workers: N, store: 'disk' });
    for (const { workers, store } of configs) {
      const { context, page } = await openPage(browser, server.url, workers, store);
      log(`browser, ${workers} worker(s), store=${store}: warm-up`);
      await runInPage(page, DATASETS.corpus);
      for (const ds of sets) {
        const runs = [];
        let cpu = null;
        for (let r = 0; r < RUNS; r++) {
          const before = cpuByThread(process.pid);
          const node0 = process.cpuUsage();
          runs.push(await runInPage(page, ds.dir));
          if (r === 0) {
            const nodeUse = process.cpuUsage(node0);
            cpu = cpuDelta(before, cpuByThread(process.pid));
            cpu.push(['this script (Playwright)', (nodeUse.user + nodeUse.system) / 1e6]);
          }
        }
        const ms = median(runs.map((x) => x.ms));
        const fps = ds.files / (ms / 1000);
        const n = nat[ds.name][workers === 1 ? 1 : N];
        const row = {
          dataset: ds.name, files: ds.files, mb: ds.bytes / 1e6, workers, store: runs[0].store,
          seconds: ms / 1000, scan_seconds: median(runs.map((x) => x.scanMs)) / 1000,
          files_per_s: fps, mb_per_s: ds.bytes / 1e6 / (ms / 1000), written: runs[0].written,
          native_jobs: n.jobs, native_files_per_s: n.files_per_s, native_written: n.written,
          per_file_ratio: n.files_per_s / fps,
          // time inside the wasm engine (summed over the workers) per file, against the native CLI's
          // whole time per file with one job: the rest of the page's time is reading files, moving
          // buffers and keeping the outputs
          engine_ms_per_file: median(runs.map((x) => x.engineMs)) / ds.files,
        };
        row.engine_ratio = row.engine_ms_per_file / (1000 / nat[ds.name][1].files_per_s);
        // CPU of the first run, ms per file, by process and thread (where the page's time goes)
        row.cpu_ms_per_file = Object.fromEntries(cpu.map(([k, v]) => [k, (v * 1000) / ds.files]));
        row.cpu_cores_busy = cpu.reduce((a, [, v]) => a + v, 0) / (runs[0].ms / 1000);
        results.sets.push(row);
        log(`  ${ds.name}: ${fps.toFixed(0)} files/s, ${row.mb_per_s.toFixed(1)} MB/s (native ${n.files_per_s.toFixed(0)} files/s with ${n.jobs} job(s): ×${row.per_file_ratio.toFixed(1)} per file; engine ${row.engine_ms_per_file.toFixed(2)} ms per file, ×${row.engine_ratio.toFixed(2)} the CLI's whole time per file)`);
      }
      await context.close();
    }

    await browser.close(); // only the memory run's browser is measured below
    if (BIG_GB > 0 && SETS.includes('ct300')) {
      const ct = dataset('ct300');
      const big = makeBigFolder(ct.dir, BIG_GB * 1e9);
      log(`memory: ${big.files} files, ${(big.bytes / 1e9).toFixed(2)} GB (ct300 repeated; largest file ${(big.largest / 1e6).toFixed(0)} MB), ${N} workers`);
      // a normal (persistent) profile: an incognito context's storage quota is far smaller
      const profile = join(tmpdir(), `bench-web-profile-${process.pid}`);
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS, '--enable-blink-features=ForceEagerMeasureMemory'],
        headless: true,
        acceptDownloads: true,
      });
      await context.addInitScript(() => Object.defineProperty(window, 'showSaveFilePicker', { value: undefined }));
      const page = context.pages()[0] || (await context.newPage());
      await page.goto(`${server.url}?workers=${N}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 }).catch(() => {});
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const rootPid = process.pid; // Chromium is a child of this process (and the server, which is not counted)
      const peaks = { pageHeap: 0, renderer: 0, browser: 0, other: 0, uaMemory: 0 };
      // a first few files, so that every worker has its engine and models loaded before the baseline
      const warm = join(ROOT, '.cache', 'bench', 'web-warm');
      rmSync(warm, { recursive: true, force: true });
      mkdirSync(warm, { recursive: true });
      for (const f of filesUnder(ct.dir).slice(0, 4 * N)) copyFileSync(f, join(warm, f.split('/').pop()));
      await runInPage(page, warm);
      if (await page.isEnabled('[data-testid="clear"]')) await page.click('[data-testid="clear"]');
      rmSync(warm, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 1000));
      const base = processTree(rootPid);
      // page + workers + wasm, measured by the page itself (cross-origin isolated)
      await page.evaluate(() => {
        window.__uaPeak = 0;
        window.__uaStop = false;
        (async () => {
          while (!window.__uaStop && self.crossOriginIsolated && performance.measureUserAgentSpecificMemory) {
            try {
              const m = await performance.measureUserAgentSpecificMemory();
              window.__uaPeak = Math.max(window.__uaPeak, m.bytes);
            } catch {
              break;
            }
            await new Promise((r) => setTimeout(r, 500));
          }
        })();
      });
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          await sampleMemory(page, cdp, rootPid, peaks);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const t0 = Date.now();
      const run = await runInPage(page, big.dir, 3_600_000);
      const runSecs = (Date.now() - t0) / 1000;
      const afterRun = { ...peaks };
      log(`  run: ${run.written} written in ${runSecs.toFixed(1)} s; streaming the ZIP out`);
      const t1 = Date.now();
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 600_000 }), page.click('[data-testid="download-zip"]')]);
      const zipPath = await dl.path();
      const zipSecs = (Date.now() - t1) / 1000;
      const zipBytes = statSync(zipPath).size;
      await dl.delete();
      sampling = false;
      await sampler;
      peaks.uaMemory = await page.evaluate(() => {
        window.__uaStop = true;
        return window.__uaPeak;
      });
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(big.dir, { recursive: true, force: true });
      results.memory = {
        output_store: run.store,
        files: big.files, gb: big.bytes / 1e9, workers: N, largest_file_mb: big.largest / 1e6,
        run_seconds: runSecs, written: run.written, zip_seconds: zipSecs, zip_gb: zipBytes / 1e9,
        baseline_mb: { renderer: base.renderer / 1e6, browser: base.browser / 1e6 },
        peak_mb: {
          page_js_heap: peaks.pageHeap / 1e6,
          page_workers_wasm: peaks.uaMemory / 1e6,
          renderer_rss: peaks.renderer / 1e6,
          browser_rss: peaks.browser / 1e6,
          other_rss: peaks.other / 1e6,
          renderer_rss_during_run: afterRun.renderer / 1e6,
        },
      };
      results.memory.peak_mb.renderer_growth = (peaks.renderer - base.renderer) / 1e6;
      results.memory.ratio_to_largest_file = {
        page_js_heap: peaks.pageHeap / big.largest,
        page_workers_wasm: peaks.uaMemory / big.largest,
        renderer_rss: peaks.renderer / big.largest,
        renderer_growth: (peaks.renderer - base.renderer) / big.largest,
      };
    }
  } finally {
    await browser.close();
    await server.stop();
  }

  // ---- print ----
  console.log(`\nBrowser benchmark (Chromium ${results.chromium}, ${N} cores, median of ${RUNS})\n`);
  console.log('dataset  files     MB  workers  outputs  browser files/s  MB/s   native files/s (jobs)  native/browser per file  engine ms/file  engine / CLI (1 job)');
  for (const r of results.sets) {
    console.log(
      `${r.dataset.padEnd(8)} ${String(r.files).padStart(5)} ${r.mb.toFixed(0).padStart(6)}  ${String(r.workers).padStart(7)}  ${r.store.padStart(7)}  ${r.files_per_s.toFixed(0).padStart(15)}  ${r.mb_per_s.toFixed(1).padStart(5)}  ${r.native_files_per_s.toFixed(0).padStart(14)} (${r.native_jobs})  ${('×' + r.per_file_ratio.toFixed(1)).padStart(22)}  ${r.engine_ms_per_file.toFixed(2).padStart(14)}  ${('×' + r.engine_ratio.toFixed(2)).padStart(20)}`,
    );
  }
  for (const r of results.sets) {
    const top = Object.entries(r.cpu_ms_per_file).filter(([, v]) => v >= 0.05);
    const total = Object.values(r.cpu_ms_per_file).reduce((a, v) => a + v, 0);
    console.log(`\nCPU per file, ${r.dataset}, ${r.workers} worker(s), ${r.store}: ${total.toFixed(2)} ms (${r.cpu_cores_busy.toFixed(2)} of ${N} cores busy)`);
    for (const [k, v] of top) console.log(`  ${v.toFixed(2).padStart(8)} ms  ${k}`);
  }
  const w1 = results.sets.filter((r) => r.workers === 1);
  for (const r of results.sets.filter((x) => x.workers === N && N > 1 && x.store === 'memory')) {
    const one = w1.find((x) => x.dataset === r.dataset);
    if (one) console.log(`scaling ${r.dataset}: ${N} workers = ×${(r.files_per_s / one.files_per_s).toFixed(2)} of 1 worker`);
  }
  if (results.memory) {
    const m = results.memory;
    console.log(`\nMemory, ${m.files} files / ${m.gb.toFixed(2)} GB (largest file ${m.largest_file_mb.toFixed(2)} MB), ${m.workers} workers, outputs stored ${m.output_store === 'disk' ? 'on disk (OPFS)' : 'in memory (Blobs)'}:`);
    console.log(`  run ${m.run_seconds.toFixed(1)} s (${(m.gb * 1e3 / m.run_seconds).toFixed(0)} MB/s), ${m.written} written; ZIP ${m.zip_gb.toFixed(2)} GB streamed to disk in ${m.zip_seconds.toFixed(1)} s`);
    console.log(`  peak page JS heap          ${m.peak_mb.page_js_heap.toFixed(1)} MB  (×${m.ratio_to_largest_file.page_js_heap.toFixed(1)} the largest file)`);
    console.log(`  peak page+workers+wasm     ${m.peak_mb.page_workers_wasm.toFixed(1)} MB  (×${m.ratio_to_largest_file.page_workers_wasm.toFixed(1)})`);
    console.log(`  peak renderer RSS          ${m.peak_mb.renderer_rss.toFixed(0)} MB  (×${m.ratio_to_largest_file.renderer_rss.toFixed(1)}; ${m.baseline_mb.renderer.toFixed(0)} MB with the engines loaded)`);
    console.log(`  renderer growth            ${m.peak_mb.renderer_growth.toFixed(0)} MB  (×${m.ratio_to_largest_file.renderer_growth.toFixed(2)} the largest file: page, workers, wasm memory)`);
    console.log(`  peak browser-process RSS   ${m.peak_mb.browser_rss.toFixed(0)} MB  (Blob storage lives here; at start ${m.baseline_mb.browser.toFixed(0)} MB)`);
  }
  const out = join(ROOT, '.cache', 'bench', 'web-results.json');
  mkdirSync(join(ROOT, '.cache', 'bench'), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 1));
  console.log(`\nJSON: ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
