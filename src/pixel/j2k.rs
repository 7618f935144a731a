//! JPEG 2000 lossless encoding of masked frames (feature `jpeg2000`), so that a masked JPEG 2000 file
//! keeps its transfer syntax instead of growing into Explicit VR Little Endian.
//!
//! The encoder is `openjp2` (a pure-Rust translation of OpenJPEG, BSD-2-Clause), driven through its
//! C-style API: reversible 5/3 wavelet, one quality layer with no rate limit (lossless), no
//! multi-component transform (colour stays RGB), a raw J2K codestream as DICOM wants. Every encoded
//! frame is decoded again by the same decoder that reads input files and compared sample for sample
//! with what was meant to be written: [`encode_frame`] returns an error rather than a stream that does
//! not give back exactly those samples, and the caller then writes Explicit VR Little Endian.

use super::image::{ImageInfo, Layout};
use openjp2::openjpeg::{
    opj_create_compress, opj_destroy_codec, opj_encode, opj_end_compress, opj_setup_encoder,
    opj_start_compress, opj_stream_create, opj_stream_destroy, opj_stream_set_seek_function,
    opj_stream_set_skip_function, opj_stream_set_user_data, opj_stream_set_write_function,
};
use openjp2::{
    image::{opj_image_create, opj_image_destroy},
    opj_cparameters_t, opj_image_comptparm as opj_image_cmptparm_t, OPJ_CLRSPC_GRAY, OPJ_CLRSPC_SRGB, OPJ_CODEC_J2K,
};
use std::ffi::c_void;

/// The transfer syntaxes whose masked frames are written back as JPEG 2000 (reversible coding: the
/// decoded samples, masks included, are kept exactly).
pub fn keeps_syntax(ts_uid: &str) -> bool {
    matches!(ts_uid, "1.2.840.10008.1.2.4.90" | "1.2.840.10008.1.2.4.91")
}

/// Where the encoder writes: a growing buffer with a position (the encoder seeks back to fill in
/// lengths).
struct Sink {
    buf: Vec<u8>,
    at: usize,
}

unsafe extern "C" fn sink_write(p: *mut c_void, n: usize, user: *mut c_void) -> usize {
    let sink = &mut *(user as *mut Sink);
    let data = std::slice::from_raw_parts(p as *const u8, n);
    let end = sink.at + n;
    if sink.buf.len() < end {
        sink.buf.resize(end, 0);
    }
    sink.buf[sink.at..end].copy_from_slice(data);
    sink.at = end;
    n
}

unsafe extern "C" fn sink_skip(n: i64, user: *mut c_void) -> i64 {
    let sink = &mut *(user as *mut Sink);
    match usize::try_from(n).ok().and_then(|n| sink.at.checked_add(n)) {
        Some(at) => {
            sink.at = at;
            n
        }
        None => -1,
    }
}

unsafe extern "C" fn sink_seek(n: i64, user: *mut c_void) -> i32 {
    let sink = &mut *(user as *mut Sink);
    match usize::try_from(n) {
        Ok(at) => {
            sink.at = at;
            1
        }
        Err(_) => 0,
    }
}

/// The number of wavelet levels plus one that a `w` × `h` frame allows (OpenJPEG refuses more
/// resolutions than the smallest side can halve into), at most OpenJPEG's default of 6.
fn resolutions(w: u32, h: u32) -> i32 {
    let side = w.min(h).max(1);
    (32 - side.leading_zeros()).clamp(1, 6) as i32
}

/// One decoded frame (little endian, interleaved, as the decoders give it; `layout` says how to read
/// it) as a lossless JPEG 2000 codestream. Checked by decoding it again.
pub fn encode_frame(frame: &[u8], info: &ImageInfo, layout: &Layout<'_>) -> Result<Vec<u8>, String> {
    let comps = info.samples as usize;
    if !(comps == 1 || comps == 3) || info.bits_stored == 0 || info.bits_stored > 16 || info.is_422() {
        return Err("not an image JPEG 2000 can hold losslessly here".into());
    }
    // the samples as the masks and the grey view read them
    let samples = layout.samples(frame).ok_or("the frame is shorter than its attributes")?;
    let stream = encode(&samples, info)?;
    check(&stream, frame, info)?;
    Ok(stream)
}

fn encode(samples: &[i64], info: &ImageInfo) -> Result<Vec<u8>, String> {
    let comps = info.samples as usize;
    let n = info.pixels();
    let mut params: Vec<opj_image_cmptparm_t> = (0..comps)
        .map(|_| opj_image_cmptparm_t {
            dx: 1,
            dy: 1,
            w: info.cols,
            h: info.rows,
            x0: 0,
            y0: 0,
            prec: info.bits_stored,
            bpp: info.bits_stored,
            sgnd: info.signed as u32,
        })
        .collect();
    let space = if comps == 3 { OPJ_CLRSPC_SRGB } else { OPJ_CLRSPC_GRAY };
    let mut sink = Box::new(Sink { buf: Vec::new(), at: 0 });
    // SAFETY: openjp2's C-style API on objects made here and destroyed on every path below; the sink
    // outlives the stream that writes into it (the stream is destroyed, and so flushed, before the
    // sink is read), and the stream is given no function to free it.
    unsafe {
        let image = opj_image_create(comps as u32, params.as_mut_ptr(), space);
        if image.is_null() {
            return Err("the encoder could not make an image".into());
        }
        (*image).x1 = info.cols;
        (*image).y1 = info.rows;
        if let Some(planes) = (*image).comps_data_mut_iter() {
            for (c, plane) in planes.enumerate() {
                for (p, v) in plane.iter_mut().enumerate().take(n) {
                    *v = samples[p * comps + c] as i32;
                }
            }
        }
        let mut cp = opj_cparameters_t::default();
        cp.tcp_numlayers = 1;
        cp.tcp_rates[0] = 0.0; // no rate limit: lossless
        cp.cp_disto_alloc = 1;
        cp.irreversible = 0; // 5/3 reversible wavelet
        cp.tcp_mct = 0; // colour stays RGB
        cp.numresolution = resolutions(info.cols, info.rows);
        cp.cod_format = 0; // J2K codestream
        // code-block style "selective arithmetic coding bypass": the lower bit-planes are written
        // raw, still losslessly (part 1), ~12% less time in coding and in the check below
        cp.mode = 1;
        // openjp2 makes its default comment with Rust's allocator and frees it with C's `free`
        // (a mismatch under any other allocator): a comment of our own is copied with C's
        cp.set_comment("dicom-deid");
        let codec = opj_create_compress(OPJ_CODEC_J2K);
        let stream = opj_stream_create(1 << 20, 0);
        let ok = !codec.is_null() && !stream.is_null() && {
            opj_stream_set_write_function(stream, Some(sink_write));
            opj_stream_set_skip_function(stream, Some(sink_skip));
            opj_stream_set_seek_function(stream, Some(sink_seek));
            opj_stream_set_user_data(stream, &mut *sink as *mut Sink as *mut c_void, None);
            opj_setup_encoder(codec, &mut cp, image) != 0
                && opj_start_compress(codec, image, stream) != 0
                && opj_encode(codec, stream) != 0
                && opj_end_compress(codec, stream) != 0
        };
        opj_stream_destroy(stream);
        if !codec.is_null() {
            opj_destroy_codec(codec);
        }
        opj_image_destroy(image);
        if !ok {
            return Err("the JPEG 2000 encoder failed".into());
        }
    }
    let mut out = sink.buf;
    if out.len() % 2 == 1 {
        out.push(0); // fragments have even length
    }
    Ok(out)
}

/// Decodes `stream` with the decoder that reads input files and compares it with `frame`.
fn check(stream: &[u8], frame: &[u8], info: &ImageInfo) -> Result<(), String> {
    let back = super::image::decode_j2k_frame(stream, info).map_err(|e| e.to_string())?;
    let want = info.pixels() * info.samples as usize * info.bytes_per_sample();
    if back.len() < want || frame.len() < want || back[..want] != frame[..want] {
        return Err("the JPEG 2000 encoding did not give the same samples back".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_fit_the_smallest_side() {
        assert_eq!(resolutions(512, 512), 6);
        assert_eq!(resolutions(16, 512), 5);
        assert_eq!(resolutions(1, 1), 1);
        assert_eq!(resolutions(3, 100), 2);
    }
}
