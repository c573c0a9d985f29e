//! The console's own words in the six ITU languages: one JSON table per language under
//! `crates/server/i18n/`, key → text, each complete (a test checks it). A key missing from a
//! table falls back to English, so a new key can land before its translations.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Zh,
    Fr,
    Es,
    Ar,
    Ru,
}

type Table = BTreeMap<String, String>;

const SOURCES: [(Lang, &str); 6] = [
    (Lang::En, include_str!("../../i18n/en.json")),
    (Lang::Zh, include_str!("../../i18n/zh.json")),
    (Lang::Fr, include_str!("../../i18n/fr.json")),
    (Lang::Es, include_str!("../../i18n/es.json")),
    (Lang::Ar, include_str!("../../i18n/ar.json")),
    (Lang::Ru, include_str!("../../i18n/ru.json")),
];

/// The tables, parsed once. A table that does not parse is empty (English is used); the
/// tests parse every one.
static TABLES: LazyLock<Vec<(Lang, Table)>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, text)| (*lang, parse(text).unwrap_or_default()))
        .collect()
});

fn parse(text: &str) -> Result<Table, serde_json::Error> {
    serde_json::from_str(text)
}

impl Lang {
    /// Every language, in the order the language switch shows them.
    pub(crate) const ALL: [Lang; 6] = [Lang::En, Lang::Zh, Lang::Fr, Lang::Es, Lang::Ar, Lang::Ru];

    /// The BCP 47 primary tag (`en`, `zh`, …).
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::Ar => "ar",
            Lang::Ru => "ru",
        }
    }

    /// The language's name in itself.
    pub(crate) fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "中文",
            Lang::Fr => "Français",
            Lang::Es => "Español",
            Lang::Ar => "العربية",
            Lang::Ru => "Русский",
        }
    }

    /// Whether text runs right to left.
    pub(crate) fn rtl(self) -> bool {
        self == Lang::Ar
    }

    /// The language whose primary tag is `tag` (`zh-CN` → Chinese), if the console has it.
    pub(crate) fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The language an `Accept-Language` header prefers most among ours (by `q`, then order).
    pub(crate) fn negotiate(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The text for `key` in this language, else in English, else the key itself.
    pub(crate) fn t(self, key: &str) -> &str {
        lookup(&TABLES, self, key)
    }
}

/// `key` in `lang`'s table of `tables`, else in English's, else the key itself.
fn lookup<'a>(tables: &'a [(Lang, Table)], lang: Lang, key: &'a str) -> &'a str {
    let find = |lang: Lang| {
        tables
            .iter()
            .find(|(l, _)| *l == lang)
            .and_then(|(_, t)| t.get(key))
            .map(String::as_str)
    };
    find(lang).or_else(|| find(Lang::En)).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lang: Lang) -> Table {
        let (_, text) = SOURCES.iter().find(|(l, _)| *l == lang).unwrap();
        parse(text).unwrap_or_else(|e| panic!("i18n/{}.json: {e}", lang.code()))
    }

    #[test]
    fn every_table_parses_and_has_only_english_keys() {
        let en = table(Lang::En);
        assert!(en.len() > 50, "the English table looks truncated");
        for lang in Lang::ALL {
            for key in table(lang).keys() {
                assert!(
                    en.contains_key(key),
                    "{}.json: unknown key {key}",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn every_english_key_is_translated_to_every_language() {
        let en = table(Lang::En);
        for lang in Lang::ALL {
            let t = table(lang);
            let missing: Vec<&String> = en.keys().filter(|k| !t.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{}.json lacks {missing:?}", lang.code());
            for (k, v) in &t {
                assert!(!v.trim().is_empty(), "{}.json: {k} is empty", lang.code());
            }
        }
    }

    #[test]
    fn missing_keys_fall_back_to_english() {
        let partial: Table = [("nav.standards".to_string(), "Normes".to_string())].into();
        let tables = vec![(Lang::En, table(Lang::En)), (Lang::Fr, partial)];
        assert_eq!(lookup(&tables, Lang::Fr, "nav.standards"), "Normes");
        assert_eq!(
            lookup(&tables, Lang::Fr, "standards.title"),
            table(Lang::En)["standards.title"]
        );
        assert_eq!(lookup(&tables, Lang::Ru, "nav.gaps"), "Gaps");
        assert_eq!(Lang::Ru.t("no.such.key"), "no.such.key");
    }

    #[test]
    fn accept_language_picks_the_preferred_language_we_have() {
        assert_eq!(Lang::negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::Zh));
        assert_eq!(Lang::negotiate("de-DE, en;q=0.5, ar;q=0.7"), Some(Lang::Ar));
        assert_eq!(Lang::negotiate("de, ja"), None);
        assert_eq!(Lang::negotiate("fr;q=0, es;q=0.1"), Some(Lang::Es));
        assert_eq!(Lang::from_tag("ZH_tw"), Some(Lang::Zh));
    }
}
