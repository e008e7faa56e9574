//! Values read from a table column whose header names a secret.
//!
//! A regex sees one stretch of text; it cannot pair a value with the header of its column
//! lines above (`payments,live,uZ0…` under `service,environment,password`). A rule with a
//! `reader` finds the header with its regex, and the reader here walks the rows below it:
//!
//! - [`Reader::Table`]: CSV, TSV and other delimited text (`,` `;` tab `|`), and Markdown
//!   tables (`| User | Password |` over a `|---|---|` line);
//! - [`Reader::SqlValues`]: `INSERT INTO t (id, name, password) VALUES (…), (…)`.
//!
//! A row's value depends on the header and on every row between them (the table ends at
//! the first line that does not fit), and on nothing after it; rows are read at most
//! [`MAX_TABLE`] bytes past the header's start. So the bytes from the header to the row
//! decide a value, which is what the history sweep's delta scan needs to know.

use std::ops::Range;

use secretgate_patterns::Reader;

/// How far past its header's start a table is read.
pub const MAX_TABLE: usize = 64 << 10;

/// The most cells a header may have.
const MAX_COLUMNS: usize = 64;

/// One value under a secret's column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnValue {
    /// The header cell naming the column.
    pub name: Range<usize>,
    /// The value, without quotes and surrounding blanks.
    pub value: Range<usize>,
    /// The row holding it (a line, or an SQL tuple).
    pub row: Range<usize>,
}

/// What the last table read from a buffer covered. A data row can read as a header too
/// (`bob,token,admin` under `user,password,role`); when it has the table's layout, the
/// rows below it are the table's rows again, read already: reading resumes where the table
/// stopped, so a column of such rows costs one reading, not one per row.
#[derive(Debug, Default)]
pub struct TableMemo {
    /// The delimiter and the number of cells (Markdown tables are not remembered: a data
    /// row is never followed by a `|---|` line).
    layout: Option<(u8, usize)>,
    /// The columns read as secrets.
    secret: Vec<usize>,
    /// From the first row read to where reading stopped.
    rows: Range<usize>,
    /// Whether it stopped at a line that does not fit (not at the limit).
    ended: bool,
}

/// The longest header line: a longer line (minified code) is no table's header, and is
/// not searched end to end for each cell that names a secret.
const MAX_HEADER_LINE: usize = 4096;

/// The bytes a header decides its values by: the whole line for a table, what the regex
/// matched (`INSERT INTO t (…) VALUES`) for SQL; `found` is that match.
pub fn header_extent(reader: Reader, haystack: &[u8], found: Range<usize>) -> Range<usize> {
    match (reader, header_line(haystack, found.start)) {
        (Reader::Table, Some(line)) => line.start.min(found.start)..line.end.max(found.end),
        _ => found,
    }
}

/// The line holding `at`, without its newline; `None` when it is longer than
/// [`MAX_HEADER_LINE`].
fn header_line(haystack: &[u8], at: usize) -> Option<Range<usize>> {
    let from = at.saturating_sub(MAX_HEADER_LINE);
    let start = match memchr::memrchr(b'\n', &haystack[from..at]) {
        Some(i) => from + i + 1,
        None if from == 0 => 0,
        None => return None,
    };
    let to = (start + MAX_HEADER_LINE).min(haystack.len());
    let end = match memchr::memchr(b'\n', &haystack[at..to]) {
        Some(i) => at + i,
        None if to == haystack.len() => to,
        None => return None,
    };
    Some(start..end)
}

/// Reads the rows under the header that `reader`'s regex matched (`found`, its whole
/// match) at `header` (a cell of the header line for a table; for SQL, the column list
/// inside its parentheses, and `found` runs from `INSERT` to `VALUES`). Calls `emit` for
/// each value in a column whose name `names_secret` accepts; returns whether `header` is a
/// header with such a column. Rows are read up to [`MAX_TABLE`] past the start of the
/// header's extent ([`header_extent`]), the reach the delta scan and the hooks allow for.
/// `memo` carries what the last table read covered, from one header of a buffer to the
/// next.
pub fn read(
    reader: Reader,
    haystack: &[u8],
    header: Range<usize>,
    found: Range<usize>,
    names_secret: impl Fn(&[u8]) -> bool,
    memo: &mut TableMemo,
    emit: impl FnMut(ColumnValue),
) -> bool {
    match reader {
        Reader::Table => {
            let Some(line) = header_line(haystack, header.start) else {
                return false;
            };
            let limit = line.start.saturating_add(MAX_TABLE).min(haystack.len());
            read_table(haystack, line.start, limit, &names_secret, memo, emit)
        }
        Reader::SqlValues => {
            let limit = found.start.saturating_add(MAX_TABLE).min(haystack.len());
            read_sql_values(haystack, header, found.end, limit, &names_secret, emit)
        }
    }
}

/// Splits a delimited line into cells (ranges into `line`'s haystack, offset by `at`),
/// honouring double quotes (`"a,b"`, `""` inside). `None` when a quote is left open
/// (a cell that goes on to the next line: the row does not fit).
fn split_cells(line: &[u8], at: usize, delimiter: u8, cells: &mut Vec<Range<usize>>) -> Option<()> {
    cells.clear();
    let mut start = 0;
    let mut i = 0;
    let mut quoted = false;
    while i < line.len() {
        let b = line[i];
        if quoted {
            if b == b'"' {
                if line.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if b == b'"' && line[start..i].iter().all(|c| *c == b' ' || *c == b'\t') {
            quoted = true;
        } else if b == b'\\' && delimiter == b'|' {
            // Markdown escapes a pipe inside a cell.
            i += 1;
        } else if b == delimiter {
            cells.push(at + start..at + i);
            start = i + 1;
        }
        i += 1;
        if cells.len() > MAX_COLUMNS {
            return None;
        }
    }
    if quoted {
        return None;
    }
    cells.push(at + start..at + line.len());
    Some(())
}

/// A cell without surrounding blanks, quotes or backticks.
fn cell_text(haystack: &[u8], cell: &Range<usize>) -> Range<usize> {
    let mut r = trim(haystack, cell.clone());
    for (open, close) in [(b'"', b'"'), (b'\'', b'\''), (b'`', b'`'), (b'[', b']')] {
        if r.len() >= 2 && haystack[r.start] == open && haystack[r.end - 1] == close {
            r = trim(haystack, r.start + 1..r.end - 1);
            break;
        }
    }
    r
}

fn trim(haystack: &[u8], mut r: Range<usize>) -> Range<usize> {
    while r.start < r.end && haystack[r.start].is_ascii_whitespace() {
        r.start += 1;
    }
    while r.end > r.start && haystack[r.end - 1].is_ascii_whitespace() {
        r.end -= 1;
    }
    r
}

/// Whether `text` reads as a column's name: a letter first, then letters, digits, blanks
/// and `_ - . / #`, at most four words, and a note in parentheses (`Password (prod)`).
/// Code (`login(user, password)`, `x = y`) does not.
fn is_column_name(text: &[u8]) -> bool {
    let count = |byte: u8| text.iter().filter(|b| **b == byte).count();
    let note = match memchr::memchr(b'(', text) {
        None => count(b')') == 0,
        Some(open) => {
            count(b'(') == 1 && count(b')') == 1 && text.ends_with(b")") && open > 0 && text[open - 1] == b' '
        }
    };
    // A statement's first word before a name (`print user, password`) is code.
    let first_word = text.split(|b| *b == b' ').next().unwrap_or_default();
    let statement = text.contains(&b' ')
        && CODE_WORDS.iter().any(|word| first_word.eq_ignore_ascii_case(word.as_bytes()));
    (1..=48).contains(&text.len())
        && !statement
        && (text[0].is_ascii_alphabetic() || text[0] == b'_')
        && text.iter().all(|b| b.is_ascii_alphanumeric() || b" _-./()#".contains(b))
        && note
        && text.split(|b| *b == b' ').filter(|w| !w.is_empty()).count() <= 4
}

/// Words that start a statement, not a column's name.
const CODE_WORDS: &[&str] = &[
    "print", "echo", "return", "yield", "let", "var", "const", "local", "export", "set", "def", "if", "for",
    "while", "select", "from", "import", "await", "new", "my", "our", "func", "fn", "public", "private",
];

/// The line from `at` (without its newline and any `\r`), where the next starts, and
/// whether the line is whole: ended by a newline or by the haystack, not cut by `limit`.
fn line_at(haystack: &[u8], at: usize, limit: usize) -> (Range<usize>, usize, bool) {
    let newline = memchr::memchr(b'\n', &haystack[at..limit]).map(|i| at + i);
    let end = newline.unwrap_or(limit);
    let next = newline.map_or(limit, |end| end + 1);
    let text_end = if end > at && haystack[end - 1] == b'\r' { end - 1 } else { end };
    (at..text_end, next, newline.is_some() || limit == haystack.len())
}

/// A Markdown table row's cells: between its outer pipes.
fn markdown_cells(haystack: &[u8], line: Range<usize>, cells: &mut Vec<Range<usize>>) -> bool {
    let r = trim(haystack, line);
    let text = &haystack[r.clone()];
    if text.len() < 2 || text[0] != b'|' {
        return false;
    }
    let inner_end = if text.ends_with(b"|") && !text.ends_with(b"\\|") { r.end - 1 } else { r.end };
    split_cells(&haystack[r.start + 1..inner_end], r.start + 1, b'|', cells).is_some()
}

/// Whether every cell of a Markdown line is a `---`, `:--`, `--:` or `:-:` rule.
fn is_markdown_rule(haystack: &[u8], cells: &[Range<usize>]) -> bool {
    cells.iter().all(|cell| {
        let text = &haystack[trim(haystack, cell.clone())];
        let dashes = text.strip_prefix(b":").unwrap_or(text);
        let dashes = dashes.strip_suffix(b":").unwrap_or(dashes);
        !dashes.is_empty() && dashes.iter().all(|b| *b == b'-')
    })
}

/// Reads the table whose header line starts at `start`; returns whether it is one.
fn read_table(
    haystack: &[u8],
    start: usize,
    limit: usize,
    names_secret: &impl Fn(&[u8]) -> bool,
    memo: &mut TableMemo,
    mut emit: impl FnMut(ColumnValue),
) -> bool {
    let (mut line, mut next, _) = line_at(haystack, start, limit);
    // A spreadsheet's export opens with a byte-order mark.
    if haystack[line.clone()].starts_with(b"\xEF\xBB\xBF") {
        line.start += 3;
    }
    let mut names = Vec::new();
    let markdown = markdown_cells(haystack, line.clone(), &mut names);
    let delimiter = if markdown {
        b'|'
    } else {
        // A delimited header starts its line: an indented one is code (`    yield value, token`).
        let text = &haystack[line.clone()];
        if text.first().is_some_and(u8::is_ascii_whitespace) {
            return false;
        }
        let Some(&delimiter) = [b'\t', b',', b';', b'|'].iter().find(|d| text.contains(d)) else {
            return false;
        };
        if split_cells(text, line.start, delimiter, &mut names).is_none() {
            return false;
        }
        delimiter
    };
    if names.len() < 2 || !names.iter().all(|cell| is_column_name(&haystack[cell_text(haystack, cell)])) {
        return false;
    }
    let secret_columns: Vec<usize> =
        (0..names.len()).filter(|&i| names_secret(&haystack[cell_text(haystack, &names[i])])).collect();
    if secret_columns.is_empty() {
        return false;
    }
    let mut cells = Vec::new();
    if markdown {
        let (rule_line, after_rule, _) = line_at(haystack, next, limit);
        if next >= limit
            || !markdown_cells(haystack, rule_line, &mut cells)
            || cells.len() != names.len()
            || !is_markdown_rule(haystack, &cells)
        {
            return false;
        }
        next = after_rule;
    }
    let first_row = next;
    let layout = (!markdown).then_some((delimiter, names.len()));
    if layout.is_some()
        && memo.layout == layout
        && memo.rows.contains(&line.start)
        && secret_columns.iter().all(|column| memo.secret.contains(column))
    {
        // A row of the table read last: its rows down to where that table stopped were
        // read with these columns among others.
        if memo.ended {
            return true;
        }
        next = memo.rows.end;
    }
    let mut ended = false;
    while next < limit {
        let (row, after, whole) = line_at(haystack, next, limit);
        // A line cut by the limit may be cut mid-value.
        if !whole {
            break;
        }
        let fits = if markdown {
            markdown_cells(haystack, row.clone(), &mut cells)
        } else {
            !row.is_empty() && split_cells(&haystack[row.clone()], row.start, delimiter, &mut cells).is_some()
        };
        if !fits || cells.len() != names.len() {
            ended = true;
            break;
        }
        for &column in &secret_columns {
            let value = cell_text(haystack, &cells[column]);
            if !value.is_empty() {
                emit(ColumnValue { name: cell_text(haystack, &names[column]), value, row: row.clone() });
            }
        }
        next = after;
    }
    if layout.is_some() {
        *memo = TableMemo { layout, secret: secret_columns, rows: first_row..next, ended };
    }
    true
}

fn read_sql_values(
    haystack: &[u8],
    columns: Range<usize>,
    after: usize,
    limit: usize,
    names_secret: &impl Fn(&[u8]) -> bool,
    mut emit: impl FnMut(ColumnValue),
) -> bool {
    let mut names = Vec::new();
    if split_cells(&haystack[columns.clone()], columns.start, b',', &mut names).is_none()
        || !names.iter().all(|cell| is_column_name(&haystack[cell_text(haystack, cell)]))
    {
        return false;
    }
    let secret_columns: Vec<usize> =
        (0..names.len()).filter(|&i| names_secret(&haystack[cell_text(haystack, &names[i])])).collect();
    if secret_columns.is_empty() {
        return false;
    }
    let mut at = after;
    let mut values: Vec<Option<Range<usize>>> = Vec::with_capacity(names.len());
    loop {
        at = skip_blanks(haystack, at, limit);
        if at >= limit || haystack[at] != b'(' {
            break;
        }
        let start = at;
        let Some(end) = sql_tuple(haystack, at + 1, limit, &mut values) else {
            break;
        };
        if values.len() == names.len() {
            for &column in &secret_columns {
                if let Some(value) = values[column].clone().filter(|v| !v.is_empty()) {
                    let name = cell_text(haystack, &names[column]);
                    emit(ColumnValue { name, value, row: start..end });
                }
            }
        }
        at = skip_blanks(haystack, end, limit);
        if at >= limit || haystack[at] != b',' {
            break;
        }
        at += 1;
    }
    true
}

/// Skips blanks and `--` comments.
fn skip_blanks(haystack: &[u8], mut at: usize, limit: usize) -> usize {
    loop {
        while at < limit && haystack[at].is_ascii_whitespace() {
            at += 1;
        }
        if haystack[at..limit].starts_with(b"--") {
            at = memchr::memchr(b'\n', &haystack[at..limit]).map_or(limit, |i| at + i);
            continue;
        }
        return at;
    }
}

/// Reads one tuple's values from just after its `(`: each string literal's contents
/// (`None` for any other value: a number, `NULL`, a call). Returns where the tuple ends
/// (after its `)`), or `None` when it does not end before `limit`.
fn sql_tuple(
    haystack: &[u8],
    mut at: usize,
    limit: usize,
    values: &mut Vec<Option<Range<usize>>>,
) -> Option<usize> {
    values.clear();
    loop {
        at = skip_blanks(haystack, at, limit);
        let mut value = None;
        // `E'…'` and `N'…'` are string literals too.
        let prefixed = at + 1 < limit && b"EeNn".contains(&haystack[at]) && haystack[at + 1] == b'\'';
        if at < limit && (haystack[at] == b'\'' || prefixed) {
            let open = if prefixed { at + 1 } else { at };
            let mut i = open + 1;
            loop {
                if i >= limit {
                    return None;
                }
                if haystack[i] == b'\'' {
                    if haystack.get(i + 1) == Some(&b'\'') && i + 1 < limit {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            value = Some(open + 1..i);
            at = skip_blanks(haystack, i + 1, limit);
            // A cast (`'…'::text`) leaves the literal the value; anything else
            // (`'a' || 'b'`) makes it part of an expression.
            if at < limit && !matches!(haystack[at], b',' | b')') && !haystack[at..limit].starts_with(b"::") {
                value = None;
            }
        }
        // Anything else runs to the next `,` or `)` outside parentheses and quotes.
        let mut depth = 0usize;
        while at < limit {
            match haystack[at] {
                b'(' => depth += 1,
                b')' if depth == 0 => break,
                b')' => depth -= 1,
                b',' if depth == 0 => break,
                b'\'' => at = at + 1 + memchr::memchr(b'\'', &haystack[at + 1..limit])?,
                b';' => return None,
                _ => {}
            }
            at += 1;
        }
        if at >= limit || values.len() >= MAX_COLUMNS {
            return None;
        }
        values.push(value);
        match haystack[at] {
            b',' => at += 1,
            b')' => return Some(at + 1),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_secret(name: &[u8]) -> bool {
        let lower = name.to_ascii_lowercase();
        [&b"password"[..], b"secret", b"token"].iter().any(|w| memchr::memmem::find(&lower, w).is_some())
    }

    /// The values read under `header` (its first occurrence in `text`), as `name=value`.
    fn values(reader: Reader, text: &str, header: &str) -> Vec<String> {
        let start = text.find(header).unwrap();
        let header = start..start + header.len();
        let mut out = Vec::new();
        read(reader, text.as_bytes(), header.clone(), header, names_secret, &mut TableMemo::default(), |v| {
            out.push(format!("{}={}", &text[v.name], &text[v.value]))
        });
        out
    }

    fn table(text: &str) -> Vec<String> {
        values(Reader::Table, text, text.lines().find(|l| names_secret(l.as_bytes())).unwrap())
    }

    #[test]
    fn csv_rows_give_the_secret_column() {
        let text = "service,env,password,owner\napi,live,,admin\npay,\"live\",\"uZ0,08\"\"!g\",app\nlog,prod,k2Jd9s,ops\n";
        assert_eq!(table(text), ["password=uZ0,08\"\"!g", "password=k2Jd9s"]);
        // A row with another number of cells ends the table.
        let text = "user;token\nbob;Zq81kd\n\nnotes; here; and there\n";
        assert_eq!(table(text), ["token=Zq81kd"]);
        let text = "user\tpassword\r\nbob\tx8Kd9s2m\r\n";
        assert_eq!(table(text), ["password=x8Kd9s2m"]);
        let text = "\u{feff}user,password\nbob,x8Kd9s2m\n";
        assert_eq!(table(text), ["password=x8Kd9s2m"]);
    }

    #[test]
    fn markdown_tables_need_their_rule_line() {
        let text = "| Service | Secret | Notes |\n|---|:---:|--|\n| App | `bb14d5` | shared |\n| G | (SSO) | ro |\n\nafter\n";
        assert_eq!(table(text), ["Secret=bb14d5", "Secret=(SSO)"]);
        let text = "| Service | Secret |\n| App | bb14d5 |\n";
        assert!(table(text).is_empty());
    }

    #[test]
    fn code_is_no_header() {
        for text in [
            "login(user, password)\nlogin(bob, hunter2)\n",
            "user, password = read()\nbob, x = 1, 2\n",
            "# a password, or a token\nbob, x\n",
            "    yield value, token\n    yield from self.tokenize(var.base, VARIABLE)\n",
            "print user, password\nprint bob, s3cr3tValue9\n",
        ] {
            let line = text.lines().next().unwrap();
            let start = text.find(line).unwrap();
            let found = read(
                Reader::Table,
                text.as_bytes(),
                start..start + line.len(),
                start..start + line.len(),
                names_secret,
                &mut TableMemo::default(),
                |_| {},
            );
            assert!(!found, "{text:?}");
        }
    }

    #[test]
    fn sql_inserts_give_the_secret_column_of_each_tuple() {
        let text = "INSERT INTO users (id, username, `password`, role) VALUES\n  (1, 'a', NULL, 'user'),\n  (2, 'dave', 'it''s', now()), -- seed\n  (3, 'x', E'k9\\x', 'r'),\n  (4, 'y', 'c4st'::text, 'r'), (5, 'z', 'a' || 'b', 'r');\n";
        let columns = "id, username, `password`, role";
        let start = text.find(columns).unwrap();
        let after = text.find("VALUES").unwrap() + 6;
        let mut out = Vec::new();
        let found = read(
            Reader::SqlValues,
            text.as_bytes(),
            start..start + columns.len(),
            0..after,
            names_secret,
            &mut TableMemo::default(),
            |v| out.push(text[v.value].to_string()),
        );
        assert!(found);
        assert_eq!(out, ["it''s", "k9\\x", "c4st"]);
    }

    /// Rows that read as headers (`bob,token,admin`) resume where the table stopped: the
    /// values are those of one reading, each read once.
    #[test]
    fn rows_that_read_as_headers_are_not_read_again() {
        let mut text = String::from("user,password,role\n");
        for i in 0..2000 {
            text.push_str(&format!("bob{i},token,admin\n"));
        }
        text.push_str("amy,Zq81kd9x,ops\n\nafter\n");
        let mut memo = TableMemo::default();
        let mut read_values = 0;
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            if let Some(i) = line.find("token").or_else(|| line.find("password")) {
                let cell = line_start + i..line_start + i + 5;
                read(Reader::Table, text.as_bytes(), cell.clone(), cell, names_secret, &mut memo, |_| {
                    read_values += 1
                });
            }
            line_start += line.len();
        }
        // The header's reading gives 2001 values; each row read as a header adds none.
        assert_eq!(read_values, 2001);
    }

    #[test]
    fn a_line_longer_than_a_header_is_none() {
        let text = format!("{},user,password\nbob,Zq81kd9\n", "x".repeat(MAX_HEADER_LINE));
        let at = text.find("password").unwrap();
        assert!(!read(
            Reader::Table,
            text.as_bytes(),
            at..at + 8,
            at..at + 8,
            names_secret,
            &mut TableMemo::default(),
            |_| {}
        ));
        assert_eq!(header_extent(Reader::Table, text.as_bytes(), at..at + 8), at..at + 8);
    }

    #[test]
    fn a_table_is_read_no_further_than_its_limit() {
        let mut text = String::from("user,password\n");
        let row = "bob,Zq81kd9\n";
        while text.len() < MAX_TABLE + 100 {
            text.push_str(row);
        }
        let rows = table(&text).len();
        assert_eq!(rows, (MAX_TABLE - "user,password\n".len()) / row.len());
    }
}
