//! What a picture must be before it is decoded: its kind read from its own first bytes (never
//! the `Content-Type` an upstream claims), one of four raster formats, and within pixel and
//! memory limits that the decoder checks from the header before it allocates anything — a
//! decompression bomb (a tiny file declaring 100,000 × 100,000 pixels) costs nothing.
//!
//! No SVG (it can carry script and fetch other hosts), no HTML, nothing else.

use std::io::Cursor;

use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits};

use super::ImageRefusal;

/// The widest and tallest picture decoded. Engines' thumbnails are a few hundred pixels; a
/// Wikipedia lead picture at most a few thousand.
pub const MAX_SIDE: u32 = 4_096;
/// The most memory one decode may allocate (a 4,096² RGB picture is 48 MiB).
pub const MAX_ALLOC: u64 = 64 * 1024 * 1024;

/// The raster formats accepted, from the bytes themselves.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, ImageRefusal> {
    match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP)) => Ok(format),
        Ok(other) => Err(ImageRefusal::NotAPicture(format!("{other:?}").to_lowercase())),
        Err(_) => Err(ImageRefusal::NotAPicture(describe_unknown(bytes).into())),
    }
}

/// A word for what a refused body looked like, for staff and the log.
fn describe_unknown(bytes: &[u8]) -> &'static str {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    if head.contains("<svg") {
        "svg"
    } else if head.contains("<html") || head.contains("<!doctype") || head.contains("<body") {
        "html"
    } else if bytes.is_empty() {
        "empty"
    } else {
        "unknown"
    }
}

/// Decodes `bytes` as the format sniffed from them, within the limits.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageRefusal> {
    let format = sniff(bytes)?;
    // The JPEG decoder fills a cut-off file's missing rows with grey rather than failing:
    // a file without its end-of-image marker is refused here instead.
    if format == ImageFormat::Jpeg && !ends_like_jpeg(bytes) {
        return Err(ImageRefusal::Undecodable("the JPEG is cut off (no end-of-image marker)".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        ImageError::Limits(limit) => ImageRefusal::TooManyPixels(limit.to_string()),
        other => ImageRefusal::Undecodable(other.to_string()),
    })
}

/// A JPEG ends with `FF D9`; some encoders pad a few bytes after it.
fn ends_like_jpeg(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_bytes() {
        assert!(matches!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), Err(ImageRefusal::NotAPicture(k)) if k == "svg"));
        assert!(matches!(sniff(b"<!DOCTYPE html><html><body>hi"), Err(ImageRefusal::NotAPicture(k)) if k == "html"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").ok(), Some(ImageFormat::Png));
        assert!(sniff(b"BM\0\0").is_err(), "BMP is not one of the four");
    }
}
