//! Decoded pictures re-encoded as small baseline JPEGs. Only pixels survive: no metadata
//! (EXIF, GPS, comments, ICC), no second image hidden in a polyglot file, nothing a browser's
//! own decoders would ever parse from upstream.
//!
//! Resizing uses `image`'s own `thumbnail` (an area average in integer arithmetic): for one
//! picture down to 256 px it costs ~1–3 ms, so a dedicated SIMD resizer (fast_image_resize)
//! would save little CPU and add build time.

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, RgbImage};

use super::{check, ImageRefusal};

/// The longest side of a re-encoded picture: a result card's picture is ~128 CSS px, drawn at
/// 2× on an iPad's screen.
pub const MAX_OUT_SIDE: u32 = 256;
/// JPEG quality: pictures of things for children, not photographs to study.
const QUALITY: u8 = 72;

/// `bytes` from upstream → checked, decoded, shrunk to fit `MAX_OUT_SIDE` and re-encoded as
/// JPEG; transparency is laid on white (a JPEG has none).
pub fn reencode(bytes: &[u8]) -> Result<Vec<u8>, ImageRefusal> {
    let decoded = check::decode(bytes)?;
    let small = if decoded.width() > MAX_OUT_SIDE || decoded.height() > MAX_OUT_SIDE { decoded.thumbnail(MAX_OUT_SIDE, MAX_OUT_SIDE) } else { decoded };
    let rgb = on_white(&small);
    let mut out = Vec::with_capacity(16 * 1024);
    JpegEncoder::new_with_quality(&mut out, QUALITY).encode_image(&rgb).map_err(|e| ImageRefusal::Undecodable(e.to_string()))?;
    Ok(out)
}

fn on_white(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}
