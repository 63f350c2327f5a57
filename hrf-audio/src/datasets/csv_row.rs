//! Data stage 0 helper: one CSV/TSV line → fields (RFC 4180 quoting, no embedded newlines).

/// Splits `line` at `delimiter`. A field that starts with `"` runs to the matching closing quote,
/// `""` inside it is a literal quote. Unquoted fields are trimmed of surrounding spaces; a
/// trailing `\r` is dropped. Errors (with the reason) on an unterminated quote or on text after
/// a closing quote.
pub(crate) fn split_row(line: &str, delimiter: char) -> Result<Vec<String>, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        // Skip spaces before a field so that `a, "b"` quotes `b`.
        while chars.peek().is_some_and(|&c| c == ' ' && c != delimiter) {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated quoted field `\"{field}`")),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            while chars.peek().is_some_and(|&c| c == ' ' && c != delimiter) {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(c) if c == delimiter => fields.push(field),
                Some(c) => {
                    return Err(format!(
                        "unexpected `{c}` after the closing quote of `{field}`"
                    ));
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_owned());
                        return Ok(fields);
                    }
                    Some(c) if c == delimiter => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_row;

    #[test]
    fn splits_plain_quoted_and_escaped_fields() {
        assert_eq!(split_row("a,b,c", ',').unwrap(), ["a", "b", "c"]);
        assert_eq!(split_row(" a , b ,c\r", ',').unwrap(), ["a", "b", "c"]);
        assert_eq!(
            split_row("\"x, y.wav\",\"say \"\"hi\"\"\",s1", ',').unwrap(),
            ["x, y.wav", "say \"hi\"", "s1"]
        );
        assert_eq!(split_row("a,,", ',').unwrap(), ["a", "", ""]);
        assert_eq!(
            split_row("1.5\t2.0\tParticipant\thello there", '\t').unwrap(),
            ["1.5", "2.0", "Participant", "hello there"]
        );
    }

    #[test]
    fn reports_broken_quotes() {
        assert_eq!(
            split_row("\"abc,d", ',').unwrap_err(),
            "unterminated quoted field `\"abc,d`"
        );
        assert_eq!(
            split_row("\"ab\"c,d", ',').unwrap_err(),
            "unexpected `c` after the closing quote of `ab`"
        );
    }
}
