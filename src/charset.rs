// TEMPORARY STUB (to be replaced by the charset module)
#[derive(Debug, Clone, PartialEq, Eq)] pub struct CharacterSets;
#[derive(Debug, Clone, Copy, PartialEq, Eq)] pub enum TextKind { PersonName, MultiValued, SingleValued }
#[derive(Debug, thiserror::Error)] pub enum CharsetError { #[error("unsupported {term}")] Unsupported { term: String } }
impl CharacterSets {
    pub fn default_repertoire() -> Self { CharacterSets }
    pub fn from_specific_character_set(_raw: &[u8]) -> Result<Self, CharsetError> { Ok(CharacterSets) }
    pub fn decode(&self, bytes: &[u8], _k: TextKind) -> Result<String, CharsetError> { Ok(String::from_utf8_lossy(bytes).into_owned()) }
    pub fn encode(&self, text: &str, _k: TextKind) -> Result<Vec<u8>, CharsetError> { Ok(text.as_bytes().to_vec()) }
}
