//! The layering of `src/` (docs/architecture.md), checked: every file's `crate::`, `super::`
//! and child-module paths are resolved to the file they name, and the test fails on a path
//! into a layer above the file's own, and on any cycle between files.
//!
//! Layers, bottom to top: util, traffic, detection, findings, output, pipeline, app, and the
//! browser shell (ui, worker). Code inside `#[cfg(test)]` modules is not counted: a unit test
//! may build a whole run to check a helper, and test code ships nowhere. Comments and string
//! literals are not counted either. The binaries (`src/bin`, `src/main.rs`) are separate crates
//! on top of everything and are not checked.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&str; 8] = [
    "util",
    "traffic",
    "detection",
    "findings",
    "output",
    "pipeline",
    "app",
    "shell",
];

fn layer_of(module: &[String]) -> Option<usize> {
    let top = module.first()?.as_str();
    let name = match top {
        "ui" | "worker" => "shell",
        other => other,
    };
    LAYERS.iter().position(|&l| l == name)
}

/// A source file: its module path (`traffic::flow`) and its code with comments, strings and
/// test modules blanked out (line breaks kept, so offsets still give line numbers).
struct SourceFile {
    path: PathBuf,
    module: Vec<String>,
    code: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Blanks comments, string and char literals (keeping newlines).
fn strip_comments_and_strings(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    out.extend([b' ', b' ']);
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    out.extend([b' ', b' ']);
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            // Raw string r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == b'"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&b'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &x in &b[i..j.min(b.len())] {
                out.push(blank(x));
            }
            i = j;
        } else if c == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    out.push(b' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '{') or a lifetime ('a): blank only literals.
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 2 + p)
            } else if b.get(i + 2) == Some(&b'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    out.extend(std::iter::repeat_n(b' ', e + 1 - i));
                    i = e + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Blanks every `#[cfg(test)]` item (a test module or a test-only function) up to its
/// matching closing brace or semicolon.
fn strip_test_code(code: &str) -> String {
    let mut out = code.to_string();
    let mut from = 0;
    while let Some(pos) = out[from..].find("#[cfg(test)]") {
        let start = from + pos;
        let bytes = out.as_bytes();
        let mut i = start + "#[cfg(test)]".len();
        let mut depth = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let blanked: String = out[start..i]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(start..i, &blanked);
        from = i;
    }
    out
}

fn load_sources(src: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let rel = path.strip_prefix(src).unwrap();
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts[0] == "bin" || parts[0] == "main.rs" {
                return None;
            }
            let mut module: Vec<String> = parts.clone();
            let last = module.pop().unwrap();
            match last.as_str() {
                "mod.rs" | "lib.rs" => {}
                other => module.push(other.trim_end_matches(".rs").to_string()),
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = strip_test_code(&strip_comments_and_strings(&text));
            Some(SourceFile { path, module, code })
        })
        .collect()
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The identifier path starting at `at` (`a::b::c`), stopping before `::{`, `::*` or anything
/// else; also returns the names inside a following `{...}` group (first segment each) and
/// where the path ends.
fn path_at(code: &str, at: usize) -> (Vec<String>, Vec<String>, usize) {
    let b = code.as_bytes();
    let mut segments = Vec::new();
    let mut i = at;
    loop {
        let s = i;
        while i < b.len() && is_ident_byte(b[i]) {
            i += 1;
        }
        if s == i {
            break;
        }
        segments.push(code[s..i].to_string());
        if code[i..].starts_with("::") {
            i += 2;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
        } else {
            break;
        }
    }
    let mut group = Vec::new();
    let end_of_path = i;
    if b.get(i) == Some(&b'{') {
        let end = code[i..].find('}').map_or(b.len(), |p| i + p);
        for item in code[i + 1..end].split(',') {
            let first = item.trim().split("::").next().unwrap_or("").trim();
            if !first.is_empty() && first.bytes().all(is_ident_byte) {
                group.push(first.to_string());
            }
        }
    }
    (segments, group, end_of_path.max(at + 1))
}

struct Reference {
    line: usize,
    target: Vec<String>,
}

fn references(file: &SourceFile, modules: &BTreeSet<Vec<String>>) -> Vec<Reference> {
    let code = &file.code;
    let b = code.as_bytes();
    let children: BTreeSet<String> = modules
        .iter()
        .filter(|m| m.len() == file.module.len() + 1 && m.starts_with(&file.module))
        .map(|m| m.last().unwrap().clone())
        .collect();
    // The longest prefix of `path` (or `path` + one group item) that is a module.
    let resolve = |path: Vec<String>, group: &[String]| -> Option<Vec<String>> {
        let mut best: Option<Vec<String>> = None;
        for n in 0..=path.len() {
            if modules.contains(&path[..n].to_vec()) {
                best = Some(path[..n].to_vec());
            }
        }
        let best = best?;
        if best.len() == path.len() {
            for g in group {
                let mut with = path.clone();
                with.push(g.clone());
                if modules.contains(&with) {
                    return Some(with);
                }
            }
        }
        Some(best)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let word_start = i == 0 || !(is_ident_byte(b[i - 1]) || b[i - 1] == b':');
        if !word_start || !is_ident_byte(b[i]) {
            i += 1;
            continue;
        }
        let (segments, group, end) = path_at(code, i);
        let line = code[..i].matches('\n').count() + 1;
        let absolute: Option<Vec<String>> = match segments.first().map(String::as_str) {
            Some("crate") => Some(segments[1..].to_vec()),
            // `pub(super)` is a visibility, not a path.
            Some("super") if code[i..].starts_with("super::") => {
                let mut base = file.module.clone();
                let mut rest = &segments[..];
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            Some("self") if segments.len() > 1 => {
                let mut base = file.module.clone();
                base.extend(segments[1..].iter().cloned());
                Some(base)
            }
            Some(first) if segments.len() > 1 && children.contains(first) => {
                let mut base = file.module.clone();
                base.extend(segments.iter().cloned());
                Some(base)
            }
            _ => None,
        };
        if let Some(path) = absolute {
            if let Some(target) = resolve(path, &group) {
                if target != file.module {
                    out.push(Reference { line, target });
                }
            }
        }
        i = end;
    }
    out
}

/// The strongly connected components of more than one file (Tarjan), each sorted: every
/// import cycle, not just the first one found.
fn cycles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct Tarjan<'g> {
        graph: &'g BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'g Vec<String>, usize>,
        low: BTreeMap<&'g Vec<String>, usize>,
        on_stack: BTreeSet<&'g Vec<String>>,
        stack: Vec<&'g Vec<String>>,
        out: Vec<Vec<Vec<String>>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g Vec<String>) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on_stack.remove(w);
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on_stack: BTreeSet::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// (upward imports, import cycles) for the tree under `src`; each cycle is described by the
/// imports between its files (`a:12 -> b`).
fn check(src: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let (upward, cycles) = check_members(src);
    (upward, cycles.into_iter().map(|(_, d)| d).collect())
}

/// One import cycle: its member files, and the imports between them (`a:12 -> b`).
type Cycle = (Vec<String>, Vec<String>);

/// As [`check`], with each cycle's member files.
fn check_members(src: &Path) -> (Vec<String>, Vec<Cycle>) {
    let files = load_sources(src);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut upward = Vec::new();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    // (from, to) -> first line of `from` that names `to`, for the message.
    let mut first_line: BTreeMap<(Vec<String>, Vec<String>), usize> = BTreeMap::new();
    for file in &files {
        let own = layer_of(&file.module);
        let edges = graph.entry(file.module.clone()).or_default();
        for r in references(file, &modules) {
            if let (Some(own), Some(theirs)) = (own, layer_of(&r.target)) {
                if theirs > own {
                    upward.push(format!(
                        "{}:{}: {} ({}) uses {} ({}), a layer above",
                        file.path.display(),
                        r.line,
                        name(&file.module),
                        LAYERS[own],
                        name(&r.target),
                        LAYERS[theirs]
                    ));
                }
            }
            // The crate root only declares the layers.
            if !file.module.is_empty() {
                first_line
                    .entry((file.module.clone(), r.target.clone()))
                    .or_insert(r.line);
                edges.insert(r.target);
            }
        }
    }
    let described = cycles(&graph)
        .into_iter()
        .map(|members| {
            let set: BTreeSet<&Vec<String>> = members.iter().collect();
            let names = members.iter().map(|m| name(m)).collect();
            let edges = first_line
                .iter()
                .filter(|((a, b), _)| set.contains(a) && set.contains(b))
                .map(|((a, b), line)| format!("{}:{line} -> {}", name(a), name(b)))
                .collect();
            (names, edges)
        })
        .collect();
    (upward, described)
}

#[test]
fn no_file_imports_from_a_layer_above_and_no_file_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (upward, cycles) = check_members(&src);
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
    let described: Vec<String> = cycles.iter().map(|(_, edges)| edges.join(", ")).collect();
    assert!(
        described.is_empty(),
        "import cycles between files (each line one cycle, as file:line -> file it names):\n{}",
        described.join("\n")
    );
}

#[test]
fn every_layer_folder_states_its_rule() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for layer in LAYERS.iter().filter(|&&l| l != "shell") {
        let text = std::fs::read_to_string(src.join(layer).join("mod.rs"))
            .unwrap_or_else(|e| panic!("src/{layer}/mod.rs: {e}"));
        let doc: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            doc.contains("May import") && doc.contains("Must not"),
            "src/{layer}/mod.rs must open with a doc paragraph saying what the layer may \
             import and what it must not (\"May import ...\", \"Must not ...\")"
        );
    }
}

/// The checker itself, on a small tree written here: it must catch an upward path, a cycle
/// through `super::` and a child-module path, and ignore test modules and comments.
#[test]
fn the_checker_catches_upward_imports_and_cycles() {
    let dir = std::env::temp_dir().join(format!("arch-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("lib.rs", "pub mod util;\npub mod traffic;\n");
    write("util/mod.rs", "pub mod a;\n");
    write(
        "util/a.rs",
        "// crate::traffic::x in a comment is fine\nconst S: &str = \"crate::traffic::x\";\n\
         #[cfg(test)]\nmod tests { use crate::traffic::x; }\n",
    );
    write("traffic/mod.rs", "pub mod x;\npub mod y;\n");
    write("traffic/x.rs", "use super::y::Y;\npub struct X;\n");
    write("traffic/y.rs", "pub struct Y;\n");
    let (upward, cycle) = check(&dir);
    assert!(upward.is_empty(), "{upward:?}");
    assert!(cycle.is_empty(), "{cycle:?}");

    write("util/a.rs", "fn f() -> crate::traffic::x::X { todo!() }\n");
    let (upward, _) = check(&dir);
    assert_eq!(upward.len(), 1, "{upward:?}");
    assert!(upward[0].contains("util::a (util) uses traffic::x (traffic)"));

    write("util/a.rs", "\n");
    write("traffic/y.rs", "pub struct Y(super::x::X);\n");
    let (_, cycle) = check(&dir);
    assert_eq!(cycle.len(), 1, "x -> y -> x: {cycle:?}");
    assert_eq!(cycle[0].len(), 2, "{cycle:?}");

    // A parent's facade re-exporting a child that uses the parent.
    write("traffic/y.rs", "pub struct Y;\n");
    write(
        "traffic/mod.rs",
        "pub mod x;\npub mod y;\npub use y::Y;\npub struct Z;\n",
    );
    write("traffic/y.rs", "pub struct Y(super::Z);\n");
    assert_eq!(check(&dir).1.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
