//! Every rendered form read back by real parsers and compared with the exact values it was made from: `.env` by
//! dotenvy and by bash and sh (`set -a; . FILE`), the shell form by bash and sh, JSON by serde_json, and the
//! Vercel and GitHub scripts run by bash and sh against stand-ins for `vercel` and `gh` that record their arguments
//! and standard input. The other parsers (python-dotenv, npm dotenv, dotenv-expand, @next/env, node --env-file,
//! docker) read the same cases in `scripts/env-parsers/run.sh`.
//!
//! A realistic value must come back exactly, with no notice and no refusal. A hostile one may only differ in a
//! reader the render's notices name for that variable; no reader may ever see a variable the block does not
//! define, or lose one it does.

mod env_table;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use env_table::{cases, Case};
use kommo::env::{render_block, Block, EnvFormat, Hazard, Reader};

type Vars = BTreeMap<String, String>;

fn want(case: &Case) -> Vars {
    case.values
        .pairs(case.prefix)
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("kommo-env-readback-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compare what `reader` got with the case's values; the problems found.
fn compare(case: &Case, block: &Block, reader: Reader, got: Result<Vars, String>) -> Vec<String> {
    let id = format!("{} {:?} {:?}", case.id, block.format, reader);
    let got = match got {
        Ok(g) => g,
        Err(e) => return vec![format!("{id}: the file was rejected: {e}")],
    };
    let want = want(case);
    let flagged: BTreeSet<&str> = block
        .notices
        .iter()
        .filter(|n| n.readers.contains(&reader))
        .map(|n| n.variable.as_str())
        .collect();
    let mut problems = Vec::new();
    for (k, v) in &got {
        if !want.contains_key(k) {
            problems.push(format!(
                "{id}: defines {k}={v:?}, which the block does not define"
            ));
        }
    }
    for (k, v) in &want {
        match got.get(k) {
            Some(g) if g == v => {}
            _ if flagged.contains(k.as_str()) => {}
            Some(g) => problems.push(format!("{id}: {k} reads {g:?}, want {v:?}")),
            None => problems.push(format!("{id}: {k} is missing (want {v:?})")),
        }
    }
    problems
}

fn dotenvy_read(text: &str) -> Result<Vars, String> {
    let mut out = Vars::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let (k, v) = item.map_err(|e| e.to_string())?;
        out.insert(k, v);
    }
    Ok(out)
}

fn env0(bytes: &[u8]) -> Vars {
    bytes
        .split(|b| *b == 0)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let s = String::from_utf8_lossy(item);
            let (k, v) = s.split_once('=').unwrap_or((&s, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// `set -a; . FILE` in `shell` with an empty environment: what it exports beyond what it exports for an empty file.
fn source(shell: &str, file: &Path) -> Result<Vars, String> {
    let run = |f: &Path| {
        Command::new(shell)
            .args(["-c", "set -a; . \"$1\"; exec env -0", "sh"])
            .arg(f)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .unwrap()
    };
    static BASE: std::sync::Mutex<BTreeMap<String, Vars>> = std::sync::Mutex::new(BTreeMap::new());
    let base = BASE
        .lock()
        .unwrap()
        .entry(shell.to_string())
        .or_insert_with(|| env0(&run(Path::new("/dev/null")).stdout))
        .clone();
    let out = run(file);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(env0(&out.stdout)
        .into_iter()
        .filter(|(k, _)| !base.contains_key(k))
        .collect())
}

const FAKE: &str = "#!/bin/sh\nset -eu\nf=\"$KOMMO_FAKE_RECORD/${0##*/}.$$\"\n\
                    for a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$f.argv\"\ncat > \"$f.stdin\"\n";

/// Run a Vercel or GitHub script with `shell`, stand-ins for `vercel` and `gh` first on PATH; the value each
/// command got, as that CLI keeps it from standard input. No value may appear in any argument.
fn run_script(shell: &str, file: &Path, case: &Case, tool: &str) -> Result<Vars, String> {
    let dir = scratch(&format!("fake-{}-{shell}-{tool}", case.id));
    let bin = dir.join("bin");
    let rec = dir.join("rec");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&rec).unwrap();
    for name in ["vercel", "gh"] {
        let p = bin.join(name);
        std::fs::write(&p, FAKE).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = Command::new(shell)
        .arg(file)
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("KOMMO_FAKE_RECORD", &rec)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let want = want(case);
    let mut got = Vars::new();
    for entry in std::fs::read_dir(&rec).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.to_str().unwrap().strip_suffix(".argv") else {
            continue;
        };
        let raw = std::fs::read(&path).unwrap();
        let argv: Vec<String> = raw
            .strip_suffix(b"\0")
            .unwrap_or(&raw)
            .split(|b| *b == 0)
            .map(|a| String::from_utf8(a.to_vec()).unwrap())
            .collect();
        let stdin = String::from_utf8(std::fs::read(format!("{stem}.stdin")).unwrap()).unwrap();
        assert!(
            stem.contains(&format!("/{tool}.")),
            "{stem}: another program ran"
        );
        for a in &argv {
            for (k, v) in &want {
                assert!(
                    v.len() < 4 || !a.contains(v.as_str()),
                    "{}: {k}'s value in argv {argv:?}",
                    case.id
                );
            }
        }
        let (name, value) = if tool == "vercel" {
            assert_eq!(&argv[..2], ["env", "add"]);
            assert_eq!(argv[3], "production", "{argv:?}");
            assert_eq!(argv.last().unwrap(), "--force");
            assert!(
                !stdin.is_empty(),
                "vercel env add {} with empty input would prompt",
                argv[2]
            );
            // normalizeStdinEnvValue: one trailing LF or CRLF goes when there is no other line break.
            let v = ["\r\n", "\n"]
                .iter()
                .find_map(|end| stdin.strip_suffix(end))
                .filter(|rest| !rest.contains(['\n', '\r']))
                .unwrap_or(&stdin);
            (argv[2].clone(), v.to_string())
        } else {
            assert_eq!(&argv[..2], ["secret", "set"]);
            (
                argv[2].clone(),
                stdin.trim_end_matches(['\r', '\n']).to_string(),
            )
        };
        assert!(got.insert(name, value).is_none(), "set twice");
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(got)
}

/// Every format of one case, read back by every reader this test has: (read-backs, problems).
fn read_back(case: &Case, dir: &Path) -> (usize, Vec<String>) {
    let mut problems = Vec::new();
    let mut checked = 0;
    for format in EnvFormat::ALL {
        let block = match render_block(format, case.prefix, &case.values) {
            Ok(b) => b,
            Err(refusal) => {
                if case.realistic {
                    problems.push(format!(
                        "{} {format:?}: a realistic case is refused: {refusal}",
                        case.id
                    ));
                }
                assert!(!refusal.problems.is_empty());
                continue;
            }
        };
        // Only "empty, so not set" may be said of a realistic value (the Vercel and GitHub scripts skip those).
        if case.realistic && block.notices.iter().any(|n| n.hazard != Hazard::Empty) {
            problems.push(format!(
                "{} {format:?}: a realistic case has notices: {:?}",
                case.id, block.notices
            ));
        }
        let file = dir.join(format!("{}.{}", case.id, format.key()));
        std::fs::write(&file, &block.text).unwrap();
        let mut read = |reader: Reader, got: Result<Vars, String>| {
            checked += 1;
            problems.extend(compare(case, &block, reader, got));
        };
        match format {
            EnvFormat::Dotenv => {
                read(Reader::Dotenvy, dotenvy_read(&block.text));
                read(Reader::Bash, source("bash", &file));
                read(Reader::Sh, source("sh", &file));
            }
            EnvFormat::Shell => {
                read(Reader::Bash, source("bash", &file));
                read(Reader::Sh, source("sh", &file));
            }
            EnvFormat::Json => {
                let got = serde_json::from_str::<Vars>(&block.text).map_err(|e| e.to_string());
                read(Reader::Dotenvy, got); // nobody is flagged for JSON: exact for every JSON reader
            }
            // With sh here (the scripts say `sh vercel-env.sh`); run.sh runs them with bash too.
            EnvFormat::Vercel => read(Reader::Vercel, run_script("sh", &file, case, "vercel")),
            EnvFormat::GitHub => read(Reader::Gh, run_script("sh", &file, case, "gh")),
            EnvFormat::Docker => {} // the real docker CLI reads it in scripts/env-parsers/run.sh
        }
    }
    (checked, problems)
}

/// Every format of every case, read back by every reader this test has (four cases at a time: most of the time is
/// spent starting shells).
#[test]
fn every_form_reads_back_exactly_or_says_why_not() {
    let dir = scratch("files");
    let all = cases();
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let (all, dir) = (&all, &dir);
                s.spawn(move || {
                    all.iter()
                        .skip(w)
                        .step_by(4)
                        .map(|case| read_back(case, dir))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    std::fs::remove_dir_all(&dir).ok();
    let checked: usize = results.iter().map(|r| r.0).sum();
    let problems: Vec<String> = results.into_iter().flat_map(|r| r.1).collect();
    assert!(checked > 250, "only {checked} read-backs");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The four breaks of issue 15, each pinned on its own.
#[test]
fn the_four_breaks_are_fixed() {
    let base = cases()
        .into_iter()
        .find(|c| c.id == "realistic-oauth")
        .unwrap();
    let with = |secret: &str| {
        let mut v = base.values.clone();
        v.client_secret = secret.into();
        v
    };
    // 1. A value ending in `\` keeps the next variable on its own line for every reader.
    let block = render_block(EnvFormat::Dotenv, "P_", &with("s3cr3t\\")).unwrap();
    assert!(
        block
            .text
            .contains("P_CLIENT_SECRET=\"s3cr3t\\\\\"\nP_REDIRECT_URI="),
        "{}",
        block.text
    );
    let got = dotenvy_read(&block.text).unwrap();
    assert_eq!(got["P_CLIENT_SECRET"], "s3cr3t\\");
    assert_eq!(got.len(), 8);
    // 2. Empty is `NAME=`, read as empty by every parser, Docker's included.
    let block = render_block(EnvFormat::Dotenv, "P_", &with("")).unwrap();
    assert!(
        block.text.contains("\nP_CLIENT_SECRET=\n"),
        "{}",
        block.text
    );
    let docker = render_block(EnvFormat::Docker, "P_", &with("")).unwrap();
    assert!(docker.text.contains("\nP_CLIENT_SECRET=\n"));
    // 3. A TAB goes raw inside single quotes, which dotenvy reads exactly.
    let block = render_block(EnvFormat::Dotenv, "P_", &with("a\tb")).unwrap();
    assert!(block.text.contains("P_CLIENT_SECRET='a\tb'\n"));
    assert_eq!(
        dotenvy_read(&block.text).unwrap()["P_CLIENT_SECRET"],
        "a\tb"
    );
    // 4. Comments are `Comment`s, which never end in `\` (systemd would swallow the next line).
    let mut v = with("x");
    v.comments.push(kommo::env::Comment::new("ends in \\"));
    let text = render_block(EnvFormat::Dotenv, "P_", &v).unwrap().text;
    assert!(text.lines().all(|l| !l.ends_with('\\')), "{text}");
    // 5. `$` is noticed, naming the readers that change it.
    let block = render_block(EnvFormat::Dotenv, "P_", &with("${HOME}")).unwrap();
    let n = &block.notices[0];
    assert_eq!(
        (n.variable.as_str(), n.hazard),
        ("P_CLIENT_SECRET", Hazard::Dollar)
    );
    assert_eq!(
        n.readers,
        [Reader::PythonDotenv, Reader::DotenvExpand, Reader::NextEnv]
    );
}
