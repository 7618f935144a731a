//! Pixel engine benchmark (native, one thread): text detection per frame at 512² and 1024², recognition
//! per line, and the whole-file cost of a 100-frame cine. Run by `scripts/bench-pixels`.
//!
//! cargo run --release --features cli --example bench_pixels -- MODELS_DIR CORPUS_DIR
use dicom_deid::pixel::image::{frames, ImageInfo};
use dicom_deid::pixel::{Grey, Rect, TextFinder};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// A grey frame of a real file, scaled (nearest) to `size` × `size`.
fn frame_of(path: &std::path::Path, size: usize) -> Grey {
    let bytes = std::fs::read(path).unwrap();
    let o = dicom_deid::dicom::parse(&bytes).unwrap();
    let info = ImageInfo::from_dataset(&o.dataset, o.transfer_syntax.big_endian)
        .unwrap()
        .unwrap();
    let px = dicom_deid::dicom::find(&o.dataset, dicom_deid::dicom::PIXEL_DATA).unwrap();
    let f = frames(px, &info, &o.transfer_syntax.uid).unwrap();
    let g = f.layout(&info).grey(f.frame(&info, 0), None);
    let mut data = vec![0u8; size * size];
    for y in 0..size {
        for x in 0..size {
            data[y * size + x] = g.get(x * g.w / size, y * g.h / size);
        }
    }
    Grey {
        w: size,
        h: size,
        data,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let models = std::path::PathBuf::from(&args[1]);
    let corpus = std::path::PathBuf::from(&args[2]);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let size = |n: &str| std::fs::metadata(models.join(n)).map(|m| m.len()).unwrap_or(0);
    let t = Instant::now();
    let ocr = dicom_deid::ocr::Ocr::from_dir(&models).unwrap();
    println!(
        "models loaded in {:.0} ms (det {} B, rec {} B, fast rec {} B)",
        t.elapsed().as_secs_f64() * 1e3,
        size("det.onnx"),
        size("rec.onnx"),
        size("rec-fast.onnx")
    );
    let sources = [
        (
            "ultrasound (OBXXXX1A)",
            corpus.join("pydicom-data-1.0.0/OBXXXX1A.dcm"),
        ),
        (
            "CT (CT_small)",
            corpus.join("pydicom-3.0.2/test_files/CT_small.dcm"),
        ),
    ];
    println!(
        "| frame | size | detection ms (median of {runs}) | lines | recognition ms per line | fast recognition ms per line |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, p) in &sources {
        for size in [512usize, 1024] {
            let g = frame_of(p, size);
            ocr.detect(&g).unwrap(); // plan built once per size
            let mut times = Vec::new();
            let mut boxes: Vec<Rect> = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                boxes = ocr.detect(&g).unwrap();
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            // ms per line for a recogniser: its first reading of each line (later ones come from its
            // reading cache), the time of building its plans per width bucket left out
            let before = ocr.stats();
            for b in &boxes {
                ocr.read(&g, *b).unwrap();
                ocr.read_fast(&g, *b).unwrap();
            }
            let after = ocr.stats();
            let per = |ms: f64, n: u64| if n == 0 { 0.0 } else { ms / n as f64 };
            let per_line = per(after.read.ms - before.read.ms, after.read.calls - before.read.calls);
            let fast_per_line = per(after.fast.ms - before.fast.ms, after.fast.calls - before.fast.calls);
            println!(
                "| {name} | {size}² | {:.1} | {} | {:.1} | {:.1} |",
                median(times),
                boxes.len(),
                per_line,
                fast_per_line
            );
        }
    }
    // a 100-frame cine: the ultrasound frame with its banner, the image area changing every frame
    let base = std::fs::read(corpus.join("pydicom-data-1.0.0/OBXXXX1A.dcm")).unwrap();
    let cine = make_cine(&base, 100);
    let eng = dicom_deid::Engine::new(
        dicom_deid::Config::default(),
        dicom_deid::Key::new(b"bench"),
    )
    .unwrap()
    .with_text_finder(std::sync::Arc::new(ocr));
    // whole files, the same ones the wasm benchmark processes (written to OUT when given)
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "us-512.dcm".into(),
            grey_file(&frame_of(&sources[0].1, 512)),
        ),
        (
            "us-1024.dcm".into(),
            grey_file(&frame_of(&sources[0].1, 1024)),
        ),
        (
            "ct-512.dcm".into(),
            grey_file(&frame_of(&sources[1].1, 512)),
        ),
        ("cine-100.dcm".into(), cine),
    ];
    if let Some(out) = args.get(3) {
        std::fs::create_dir_all(out).unwrap();
        for (n, b) in &files {
            std::fs::write(std::path::Path::new(out).join(n), b).unwrap();
        }
    }
    println!("| file | native ms per file (whole engine, plans warm) | frames given to the detector | boxes masked |");
    println!("|---|---|---|---|");
    for (n, b) in &files {
        eng.process(b, n).unwrap(); // warm
        let t = Instant::now();
        let out = eng.process(b, n).unwrap();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let px = out.report.pixel.unwrap();
        println!(
            "| {n} | {ms:.0} | {} of {} | {} |",
            px.frames_detected,
            px.frames,
            px.boxes.iter().filter(|b| b.masked).count()
        );
    }
}

/// An 8-bit MONOCHROME2 secondary capture of a grey frame, with identifying values in the header.
fn grey_file(g: &Grey) -> Vec<u8> {
    use dicom_deid::dicom::{self, Element, FileObject, TransferSyntax, Value, Vr};
    let t = dicom::tag;
    let us = |v: u16| v.to_le_bytes().to_vec();
    let mut ds = vec![
        Element::new_str(t(0x0008, 0x0016), Vr::UI, "1.2.840.10008.5.1.4.1.1.7"),
        Element::new_str(t(0x0008, 0x0018), Vr::UI, &format!("1.2.3.4.{}", g.w)),
        Element::new_str(t(0x0008, 0x0060), Vr::CS, "OT"),
        Element::new_str(t(0x0010, 0x0010), Vr::PN, "DOE^JANE"),
        Element::new_str(t(0x0010, 0x0020), Vr::LO, "123456"),
        Element::new_bytes(t(0x0028, 0x0002), Vr::US, us(1)),
        Element::new_str(t(0x0028, 0x0004), Vr::CS, "MONOCHROME2"),
        Element::new_bytes(t(0x0028, 0x0010), Vr::US, us(g.h as u16)),
        Element::new_bytes(t(0x0028, 0x0011), Vr::US, us(g.w as u16)),
        Element::new_bytes(t(0x0028, 0x0100), Vr::US, us(8)),
        Element::new_bytes(t(0x0028, 0x0101), Vr::US, us(8)),
        Element::new_bytes(t(0x0028, 0x0102), Vr::US, us(7)),
        Element::new_bytes(t(0x0028, 0x0103), Vr::US, us(0)),
        Element {
            tag: dicom::PIXEL_DATA,
            vr: Vr::OB,
            value: Value::Bytes(g.data.clone().into()),
        },
    ];
    ds.sort_by_key(|e| e.tag);
    let meta = vec![
        Element::new_bytes(t(0x0002, 0x0001), Vr::OB, vec![0, 1]),
        Element::new_str(t(0x0002, 0x0002), Vr::UI, "1.2.840.10008.5.1.4.1.1.7"),
        Element::new_str(t(0x0002, 0x0003), Vr::UI, &format!("1.2.3.4.{}", g.w)),
        Element::new_str(t(0x0002, 0x0010), Vr::UI, TransferSyntax::EXPLICIT_LE),
    ];
    let o = FileObject {
        meta,
        dataset: ds,
        transfer_syntax: TransferSyntax::from_uid(TransferSyntax::EXPLICIT_LE),
        framing: dicom::Framing::Part10,
        vr_mismatch: false,
    };
    dicom::write(&o).unwrap()
}

/// OBXXXX1A.dcm (800×600 RGB) as a 100-frame cine: the lower 60% of each frame gets a moving pattern.
fn make_cine(base: &[u8], n: usize) -> Vec<u8> {
    use dicom_deid::dicom::{self, Element, Value, Vr};
    let mut o = dicom::parse(base).unwrap();
    let info = ImageInfo::from_dataset(&o.dataset, false).unwrap().unwrap();
    let px = dicom::find(&o.dataset, dicom::PIXEL_DATA)
        .unwrap()
        .bytes()
        .unwrap()
        .to_vec();
    let fl = info.frame_len();
    let mut all = Vec::with_capacity(fl * n);
    for f in 0..n {
        let mut fr = px[..fl].to_vec();
        let start = fl * 2 / 5;
        for (i, b) in fr[start..].iter_mut().enumerate() {
            *b = b.wrapping_add(((i / 3 + f * 7) % 23) as u8);
        }
        all.extend_from_slice(&fr);
    }
    dicom::put(
        &mut o.dataset,
        Element::new_str(dicom::tag(0x0028, 0x0008), Vr::IS, &n.to_string()),
    );
    dicom::put(
        &mut o.dataset,
        Element {
            tag: dicom::PIXEL_DATA,
            vr: Vr::OB,
            value: Value::Bytes(all.into()),
        },
    );
    dicom::write(&o).unwrap()
}
