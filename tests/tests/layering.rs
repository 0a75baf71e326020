//! The workspace's boundaries, checked: which crate may depend on which (DESIGN.md "Layout":
//! `daemon, demo → readers → core`; the core names no I/O crate), and no cycle between the
//! top-level modules of any crate. Reads the manifests and the sources; builds nothing.
//!
//! A module `a` depends on a module `b` of the same crate when its non-test code names
//! `crate::b` (also inside a `use crate::{…}` group). Test code (`tests.rs`, `tests/`, a
//! trailing `#[cfg(test)] mod tests`) and comments do not count. Run it alone with
//! `cargo test -p shelfd-e2e --test layering`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate is inside the workspace")
        .to_path_buf()
}

/// Every library crate of the workspace: (package name, manifest dir).
fn crates() -> Vec<(String, PathBuf)> {
    let manifest: toml::Table = toml::from_str(
        &std::fs::read_to_string(root().join("Cargo.toml")).expect("workspace manifest"),
    )
    .expect("workspace manifest parses");
    let members = manifest["workspace"]["members"]
        .as_array()
        .expect("workspace members");
    members
        .iter()
        .map(|m| {
            let dir = root().join(m.as_str().expect("member path"));
            (package(&dir).0, dir)
        })
        .collect()
}

/// (package name, normal dependencies with whether they are optional).
fn package(dir: &Path) -> (String, BTreeMap<String, bool>) {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).expect("crate manifest");
    let manifest: toml::Table = toml::from_str(&text).expect("crate manifest parses");
    let name = manifest["package"]["name"]
        .as_str()
        .expect("package name")
        .to_owned();
    let deps = manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| {
            t.iter()
                .map(|(k, v)| {
                    let optional = v
                        .get("optional")
                        .and_then(toml::Value::as_bool)
                        .unwrap_or(false);
                    (k.clone(), optional)
                })
                .collect()
        })
        .unwrap_or_default();
    (name, deps)
}

const IO_CRATES: &[&str] = &[
    "tokio",
    "tokio-util",
    "tokio-serial",
    "sled",
    "rumqttc",
    "rumqttd",
    "linux-embedded-hal",
    "rustls",
    "tracing-subscriber",
];

#[test]
fn crates_depend_one_way() {
    let all = crates();
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    for needed in ["shelfd-core", "shelfd", "shelf-node", "shelfd-central"] {
        assert!(names.contains(&needed), "{needed} missing from {names:?}");
    }
    for (name, dir) in &all {
        let (_, deps) = package(dir);
        let forbidden: &[&str] = match name.as_str() {
            // The pure domain: nothing of ours but the firmware's codec, no I/O crate.
            "shelfd-core" => &["shelfd", "shelfd-readers", "shelfd-central"],
            // Readers know the core, never the daemon, its store or its broker client.
            "shelfd-readers" => &["shelfd", "sled", "rumqttc", "rumqttd"],
            "shelf-node" => &["shelfd", "shelfd-core", "shelfd-readers"],
            // Central reads the contract through the core only: `central → core`. It never
            // links the gateway (daemon, readers) nor the demo's broker.
            "shelfd-central" => &["shelfd", "shelfd-readers", "shelf-node", "sled", "rumqttd"],
            _ => &[],
        };
        for f in forbidden {
            assert!(
                !deps.contains_key(*f),
                "{name} must not depend on {f} ({})",
                dir.display()
            );
        }
        if name == "shelfd-core" {
            for f in IO_CRATES {
                assert!(!deps.contains_key(*f), "shelfd-core must not depend on {f}");
            }
        }
        // Only central may name shelfd-central (the daemon could, as an optional `demo`
        // dependency, if `shelfd demo` ever starts central in-process; today it does not).
        if name != "shelfd-central" {
            assert!(
                !deps.contains_key("shelfd-central") || deps["shelfd-central"],
                "{name} must not depend on shelfd-central (only optionally, for the demo)"
            );
        }
        // The demo's broker is tooling: never a default part of the daemon.
        if let Some(optional) = deps.get("rumqttd") {
            assert!(
                *optional,
                "{name}: rumqttd must be an optional dependency (the demo feature)"
            );
        }
    }
}

/// The `.rs` files of each top-level module of a crate's `src/` (the crate root and binaries
/// excluded), test files left out.
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("src dir") {
        let path = entry.expect("dir entry").path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        if matches!(file.as_str(), "lib.rs" | "main.rs" | "bin") {
            continue;
        }
        let name = file.trim_end_matches(".rs").to_owned();
        let files = out.entry(name).or_default();
        if path.is_dir() {
            walk(&path, files);
        } else if file.ends_with(".rs") {
            files.push(path);
        }
    }
    out
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("module dir") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if name != "tests" {
                walk(&path, files);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            files.push(path);
        }
    }
}

/// The top-level modules a source text names through `crate::`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let code = text
        .find("#[cfg(test)]\nmod tests")
        .map_or(text, |end| &text[..end]);
    // Comment lines out; the rest as one text, so a `use crate::{…}` group may span lines.
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| [l, "\n"])
        .collect();
    let mut out = BTreeSet::new();
    {
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            // `$crate::` (macros) and `shelfd_crate::`-like names are not this crate's paths.
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // Split the group at its top-level commas, up to its matching brace.
                let mut depth = 0;
                let mut item = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            out.insert(ident(item.trim()));
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                out.insert(ident(item.trim()));
            } else {
                out.insert(ident(rest));
            }
        }
    }
    out.remove("");
    out
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// A cycle in `graph`, as the path of module names that closes it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, graph, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    mods.iter()
        .map(|(name, files)| {
            let mut deps = BTreeSet::new();
            for f in files {
                let text = std::fs::read_to_string(f).expect("source file");
                deps.extend(named_modules(&text));
            }
            deps.retain(|d| d != name && mods.contains_key(d));
            (name.clone(), deps)
        })
        .collect()
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut checked = Vec::new();
    for (name, dir) in crates() {
        let src = dir.join("src");
        if !src.join("lib.rs").exists() {
            continue;
        }
        let graph = module_graph(&src);
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{name}: module cycle {}\n(graph: {graph:#?})",
                cycle.join(" → ")
            );
        }
        checked.push(name);
    }
    assert!(checked.iter().any(|c| c == "shelfd") && checked.iter().any(|c| c == "shelfd-core"));
}

#[test]
fn the_cycle_check_sees_cycles_and_use_groups() {
    let text = "use crate::{\n    alpha::A,\n    beta::{B, C},\n};\n// crate::gamma is a comment\nfn f() { crate::delta::go(); $crate::x; }\n#[cfg(test)]\nmod tests { use crate::eps; }\n";
    assert_eq!(
        named_modules(text),
        ["alpha", "beta", "delta"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("ops", vec!["publish"]),
        ("publish", vec!["store"]),
        ("run", vec!["ops", "publish"]),
        ("store", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(find_cycle(&graph), None);
    let mut cyclic = graph.clone();
    cyclic
        .get_mut("publish")
        .expect("node")
        .insert("run".to_owned());
    let cycle = find_cycle(&cyclic).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(cycle.contains(&"run".to_owned()) && cycle.contains(&"publish".to_owned()));
}
