//! Data dictionary look-ups through `dicom-dictionary-std` (PS3.6): keywords for the report and VRs for
//! implicit VR data sets.

use super::{Tag, Vr};
use dicom_core::dictionary::{DataDictionary, VirtualVr};
use dicom_dictionary_std::StandardDataDictionary;

fn entry(t: Tag) -> Option<&'static dicom_core::dictionary::DataDictionaryEntryRef<'static>> {
    StandardDataDictionary.by_tag(dicom_core::Tag((t >> 16) as u16, t as u16))
}

/// The PS3.6 keyword of a tag, `""` for private and unknown tags.
pub fn keyword(t: Tag) -> &'static str {
    if (t >> 16) & 1 == 1 {
        if (0x10..=0xFF).contains(&(t & 0xFFFF)) {
            return "PrivateCreator";
        }
        return "";
    }
    entry(t).map(|e| e.alias).unwrap_or("")
}

/// The VR the dictionary gives a tag; `None` for private data elements and unknown tags. Context-dependent
/// VRs resolve to the wider choice (US/SS → US, OB/OW → OW).
pub fn dictionary_vr(t: Tag) -> Option<Vr> {
    if (t >> 16) & 1 == 1 {
        // private creators are LO; other private elements are unknown
        return (0x10..=0xFF).contains(&(t & 0xFFFF)).then_some(Vr::LO);
    }
    let e = entry(t)?;
    let vr = match e.vr {
        VirtualVr::Exact(v) => v,
        VirtualVr::Xs => dicom_core::VR::US,
        VirtualVr::Ox | VirtualVr::Px => dicom_core::VR::OW,
        VirtualVr::Lt => dicom_core::VR::OW,
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    Vr::from_bytes(vr.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn looks_up_keywords_and_vrs() {
        assert_eq!(keyword(0x0010_0010), "PatientName");
        assert_eq!(dictionary_vr(0x0010_0010), Some(Vr::PN));
        assert_eq!(dictionary_vr(0x6002_3000), Some(Vr::OW));
        assert_eq!(dictionary_vr(0x0009_0010), Some(Vr::LO));
        assert_eq!(dictionary_vr(0x0009_1010), None);
        assert_eq!(dictionary_vr(0x0028_0000), Some(Vr::UL));
    }
}
