//! Rendering for people: signing material with what is invisible made visible.

/// Renders `bytes` line by line in the style of `cat -A`: each line ends with
/// `$`, a tab is `^I`, a carriage return `^M`, a space at the end of a line
/// `\x20`, and every other control or non-ASCII byte `\xNN`.
pub fn visible(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8 + 8);
    for line in bytes.split(|&b| b == b'\n') {
        let trailing = line.iter().rev().take_while(|&&b| b == b' ').count();
        let body = &line[..line.len() - trailing];
        for &b in body {
            match b {
                b'\t' => out.push_str("^I"),
                b'\r' => out.push_str("^M"),
                b'\\' => out.push_str("\\\\"),
                0x20..=0x7e => out.push(char::from(b)),
                _ => out.push_str(&format!("\\x{b:02X}")),
            }
        }
        for _ in 0..trailing {
            out.push_str("\\x20");
        }
        out.push_str("$\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn shows_the_invisible() {
        assert_eq!(visible(b"a\tb \nc\xe1\r"), "a^Ib\\x20$\nc\\xE1^M$\n");
        assert_eq!(visible(b"GET\n/"), "GET$\n/$\n");
        assert_eq!(visible(b"x\\y"), "x\\\\y$\n");
    }
}
