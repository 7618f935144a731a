// TEMPORARY STUB (to be replaced by the text module)
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)] #[serde(deny_unknown_fields, default)]
pub struct TextRules { pub languages: Vec<String>, pub extra_words: Vec<String>, pub extra_institution_words: Vec<String>, pub extra_prefixes: Vec<String>, pub extra_regexes: Vec<String>, pub keep_words: Vec<String>, pub fuzzy: bool }
#[derive(Clone, Debug, Default)] pub struct DenyList { w: Vec<String> }
impl DenyList {
 pub fn add_person_name(&mut self, s: &str) { self.w.extend(s.split(['^','=',' ']).filter(|x| x.len()>1).map(|x| x.to_lowercase())); }
 pub fn add_identifier(&mut self, s: &str) { self.w.push(s.to_lowercase()); }
 pub fn add_date(&mut self, s: &str) { self.w.push(s.to_string()); }
 pub fn add_phone(&mut self, s: &str) { self.w.push(s.to_string()); }
 pub fn add_text(&mut self, s: &str) { self.w.extend(s.split(' ').map(|x| x.to_lowercase())); }
 pub fn merge(&mut self, o: &DenyList) { self.w.extend(o.w.iter().cloned()); }
}
pub struct Cleaned { pub text: String, pub removed: usize }
pub struct Cleaner;
#[derive(Debug, thiserror::Error)] pub enum TextError { #[error("x")] X }
impl Cleaner {
 pub fn new(_r: &TextRules) -> Result<Cleaner, TextError> { Ok(Cleaner) }
 pub fn clean(&self, t: &str, d: &DenyList) -> Cleaned { let mut removed=0; let out: Vec<&str> = t.split(' ').filter(|w| { let hit = d.w.contains(&w.to_lowercase()); if hit {removed+=1}; !hit }).collect(); if removed==0 { return Cleaned{text:t.to_string(),removed:0} } Cleaned { text: out.join(" "), removed } }
 pub fn clean_person_name(&self, t: &str, _d: &DenyList) -> Cleaned { if t.trim().is_empty() { Cleaned{text:t.into(),removed:0} } else { Cleaned{text:String::new(),removed:1} } }
 pub fn find_phi(&self, t: &str, d: &DenyList) -> Vec<std::ops::Range<usize>> { if self.clean(t,d).removed>0 { vec![0..1] } else { vec![] } }
}
