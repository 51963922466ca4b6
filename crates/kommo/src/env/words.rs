//! What the page says about a block, in English and Russian: how to use each format, the notices, the refusals.

use super::{EnvFormat, Hazard, Notice, Reader, Refusal};
use crate::hints::Lang;

pub(crate) fn usage(format: EnvFormat, lang: Lang) -> &'static str {
    match (format, lang) {
        (EnvFormat::Dotenv, Lang::En) => {
            "Save it as .env.local (or .env) in your app's folder: Next.js, node --env-file, dotenv, python-dotenv, \
             dotenvy, Docker Compose's env_file and `set -a; . ./.env.local` all read it."
        }
        (EnvFormat::Dotenv, Lang::Ru) => {
            "Сохраните как .env.local (или .env) в папке приложения: его читают Next.js, node --env-file, dotenv, \
             python-dotenv, dotenvy, env_file в Docker Compose и `set -a; . ./.env.local`."
        }
        (EnvFormat::Shell, Lang::En) => {
            "Load it with `. ./kommo-env.sh` in bash, zsh or sh: the variables stay for that shell. Loaded from the \
             file, the values stay out of your shell history."
        }
        (EnvFormat::Shell, Lang::Ru) => {
            "Загрузите командой `. ./kommo-env.sh` в bash, zsh или sh: переменные останутся в этой оболочке. Из \
             файла значения не попадут в историю команд."
        }
        (EnvFormat::Json, Lang::En) => "For config loaders and secret managers that take a JSON object.",
        (EnvFormat::Json, Lang::Ru) => "Для загрузчиков настроек и хранилищ секретов, которые принимают JSON-объект.",
        (EnvFormat::Docker, Lang::En) => {
            "Use it with `docker run --env-file kommo.env …`: one variable a line, each value taken exactly as \
             written (no quotes)."
        }
        (EnvFormat::Docker, Lang::Ru) => {
            "Используйте с `docker run --env-file kommo.env …`: одна переменная на строку, значение берётся ровно \
             как написано (без кавычек)."
        }
        (EnvFormat::Vercel, Lang::En) => {
            "Download it and, in your project's folder (linked with `vercel link`), run `sh vercel-env.sh` \
             (production; or `sh vercel-env.sh preview`), then delete the file. Run it as a file: pasted into a \
             terminal, the values would land in your shell history."
        }
        (EnvFormat::Vercel, Lang::Ru) => {
            "Скачайте и в папке проекта (связанной через `vercel link`) выполните `sh vercel-env.sh` (production; \
             или `sh vercel-env.sh preview`), затем удалите файл. Запускайте именно файл: вставленные в терминал \
             значения попадут в историю команд."
        }
        (EnvFormat::GitHub, Lang::En) => {
            "Download it and run `sh gh-secrets.sh` in a clone of your repository (or `sh gh-secrets.sh --repo \
             OWNER/NAME`), then delete the file. Run it as a file: pasted into a terminal, the values would land in \
             your shell history."
        }
        (EnvFormat::GitHub, Lang::Ru) => {
            "Скачайте и выполните `sh gh-secrets.sh` в клоне репозитория (или `sh gh-secrets.sh --repo \
             OWNER/NAME`), затем удалите файл. Запускайте именно файл: вставленные в терминал значения попадут в \
             историю команд."
        }
    }
}

fn readers(list: &[Reader], lang: Lang) -> String {
    let names: Vec<&str> = list.iter().map(|r| r.label()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let and = if lang == Lang::Ru { " и " } else { " and " };
            format!("{}{and}{last}", init.join(", "))
        }
    }
}

pub(crate) fn notice(n: &Notice, lang: Lang) -> String {
    let v = &n.variable;
    let who = readers(&n.readers, lang);
    let en = lang == Lang::En;
    match n.hazard {
        Hazard::Dollar if en => {
            format!("{v} holds `$`: {who} will replace `$NAME` or `${{NAME}}` in it with another variable's value.")
        }
        Hazard::Dollar => format!(
            "{v} содержит `$`: {who} подставят вместо `$NAME` или `${{NAME}}` значение другой переменной."
        ),
        Hazard::Command if en => format!("{v} holds `$(…)`: {who} will run it as a command when loading the file."),
        Hazard::Command => format!("{v} содержит `$(…)`: {who} выполнят это как команду при загрузке файла."),
        Hazard::Backslash if en => format!(
            "{v} holds `\\`, written `\\\\` inside double quotes here: {who} will keep both backslashes."
        ),
        Hazard::Backslash => format!(
            "{v} содержит `\\`, здесь он записан как `\\\\` в двойных кавычках: {who} оставят обе косые черты."
        ),
        Hazard::BackslashPair if en => {
            format!("{v} holds two backslashes in a row (`\\\\`): {who} will read them as one.")
        }
        Hazard::BackslashPair => {
            format!("{v} содержит две обратные косые черты подряд (`\\\\`): {who} прочтёт их как одну.")
        }
        Hazard::DoubleQuote if en => format!(
            "{v} holds `\"`, written `\\\"` here: {who} will keep the backslash (node --env-file ends the value there)."
        ),
        Hazard::DoubleQuote => format!(
            "{v} содержит `\"`, здесь он записан как `\\\"`: {who} оставят обратную косую черту (node --env-file \
             обрывает на ней значение)."
        ),
        Hazard::LineBreak if en => {
            format!("{v} holds a line break, written `\\n` here: {who} will read it as the two characters `\\n`.")
        }
        Hazard::LineBreak => format!(
            "{v} содержит перевод строки, здесь он записан как `\\n`: {who} прочтут его как два символа `\\n`."
        ),
        Hazard::Empty if en => {
            let why = if n.readers.contains(&Reader::Gh) {
                "an unset secret reads as an empty string in a workflow"
            } else {
                "vercel env add takes no empty value; unset, it reads as undefined"
            };
            format!("{v} is empty, so the script does not set it: {why}.")
        }
        Hazard::Empty => {
            let why = if n.readers.contains(&Reader::Gh) {
                "незаданный секрет в workflow читается как пустая строка"
            } else {
                "vercel env add не принимает пустое значение; незаданная переменная читается как undefined"
            };
            format!("{v} пуст, поэтому скрипт его не задаёт: {why}.")
        }
        // Refusals, should one ever be shown as a notice.
        _ => problem(v, n.hazard, EnvFormat::Dotenv, lang),
    }
}

fn problem(v: &str, hazard: Hazard, format: EnvFormat, lang: Lang) -> String {
    let en = lang == Lang::En;
    let tool = match format {
        EnvFormat::Vercel => "vercel env add",
        EnvFormat::GitHub => "gh secret set",
        _ => "",
    };
    match hazard {
        Hazard::Nul if en => format!("{v} holds a NUL character, which no environment variable can hold."),
        Hazard::Nul => format!("{v} содержит символ NUL, который не может храниться ни в одной переменной окружения."),
        Hazard::LineBreak if en => {
            format!("{v} holds a line break, which Docker's --env-file cannot carry (each line is one variable).")
        }
        Hazard::LineBreak => format!(
            "{v} содержит перевод строки, а --env-file в Docker его не передаёт (каждая строка — одна переменная)."
        ),
        Hazard::CarriageReturn if en && format == EnvFormat::Docker => {
            format!("{v} ends in a carriage return, which Docker's --env-file drops.")
        }
        Hazard::CarriageReturn if format == EnvFormat::Docker => {
            format!("{v} оканчивается возвратом каретки (CR), а --env-file в Docker его отбрасывает.")
        }
        Hazard::CarriageReturn if en => format!(
            "{v} holds a carriage return (CR), which no .env writing keeps for every parser (dotenvy rejects `\\r`; \
             npm dotenv and python-dotenv turn a raw one into a line break)."
        ),
        Hazard::CarriageReturn => format!(
            "{v} содержит возврат каретки (CR), который ни одна запись .env не сохраняет для всех парсеров (dotenvy \
             отвергает `\\r`, npm dotenv и python-dotenv превращают его в перевод строки)."
        ),
        Hazard::Backtick if en => format!(
            "{v} holds a backtick (`) along with characters that need double quotes: bash would run it as a command \
             unless escaped, and dotenvy rejects the escape."
        ),
        Hazard::Backtick => format!(
            "{v} содержит обратный апостроф (`) вместе с символами, требующими двойных кавычек: без экранирования \
             bash выполнит его как команду, а экранирование отвергает dotenvy."
        ),
        Hazard::TrailingLineBreak if en => {
            format!("{v} ends in a line break, which {tool} strips from its standard input.")
        }
        Hazard::TrailingLineBreak => {
            format!("{v} оканчивается переводом строки, а {tool} отрезает его от стандартного ввода.")
        }
        Hazard::TooLong if en => format!(
            "{v} is longer than 4096 bytes: {tool} keeps only the first part it reads from standard input."
        ),
        Hazard::TooLong => {
            format!("{v} длиннее 4096 байт: {tool} берёт со стандартного ввода только первую прочитанную часть.")
        }
        Hazard::ReservedName if en => {
            format!("{v}: GitHub does not allow secret names that start with GITHUB_; choose another prefix.")
        }
        Hazard::ReservedName => {
            format!("{v}: GitHub не разрешает имена секретов, начинающиеся с GITHUB_; выберите другой префикс.")
        }
        // Notices, should one ever be shown as a refusal.
        _ => notice(
            &Notice {
                variable: v.to_string(),
                hazard,
                readers: Vec::new(),
            },
            lang,
        ),
    }
}

pub(crate) fn refusal(r: &Refusal, lang: Lang) -> String {
    let en = lang == Lang::En;
    let mut out: Vec<String> = r
        .problems
        .iter()
        .map(|p| problem(&p.variable, p.hazard, r.format, lang))
        .collect();
    let instead = match r.format {
        EnvFormat::Docker if en => {
            "Nothing was written: choose the .env format (Docker Compose's env_file reads it) or pass that variable \
             with -e."
        }
        EnvFormat::Docker => {
            "Ничего не записано: выберите формат .env (его читает env_file в Docker Compose) или передайте эту \
             переменную через -e."
        }
        EnvFormat::Vercel if en => {
            "Nothing was written: set that variable in the project's Settings → Environment Variables."
        }
        EnvFormat::Vercel => "Ничего не записано: задайте эту переменную в Settings → Environment Variables проекта.",
        EnvFormat::GitHub if en => {
            "Nothing was written: set that secret in the repository's Settings → Secrets and variables → Actions."
        }
        EnvFormat::GitHub => {
            "Ничего не записано: задайте этот секрет в Settings → Secrets and variables → Actions репозитория."
        }
        EnvFormat::Dotenv if en => "Nothing was written: choose the JSON or shell format.",
        EnvFormat::Dotenv => "Ничего не записано: выберите формат JSON или shell.",
        _ if en => "Nothing was written: choose the JSON format.",
        _ => "Ничего не записано: выберите формат JSON.",
    };
    out.push(instead.to_string());
    out.join(" ")
}
