// Plain words for the engine's reasons and error kinds. The engine's own message (offsets, tags, never a
// value from the file) stays available as the technical detail.

const RULES = [
  [/not a DICOM file/i, 'Not a DICOM file'],
  [/DICOMDIR/i, 'A DICOMDIR (an index of a disc), not an image: skipped; make a new one for the outputs'],
  [/truncated file|is incomplete|cut short/i, 'The file is damaged or incomplete (truncated)'],
  [/deflated data set cannot be inflated/i, 'The file is damaged: its compressed (deflated) content cannot be unpacked'],
  [/file meta group is invalid|Transfer Syntax UID is not a UID/i, 'The file is damaged: its DICOM file header is invalid'],
  [/invalid VR bytes|bad structure/i, 'The file is damaged: its DICOM header cannot be read'],
  [/nested deeper/i, 'The file is nested too deeply to be processed safely'],
  [/too long for VR/i, 'A value is too long to be written back in this encoding'],
  [/character set problem/i, 'The text uses a character set that cannot be read'],
  [/not in the subject mapping/i, 'The Patient ID is not in the subject mapping table'],
  [/SOP Instance UID is not a valid UID/i, 'The file cannot be de-identified safely: its instance UID is invalid'],
  [/cannot be de-identified safely/i, 'The file cannot be de-identified safely'],
  [/cannot write the de-identified file/i, 'The de-identified file could not be written'],
  [/ZIP entry is encrypted/i, 'The ZIP entry is password-protected: unpack it first'],
  [/ZIP entry uses compression method/i, 'The ZIP entry is compressed in a way this page cannot unpack'],
  [/ZIP archive could not be read|ZIP archive is damaged|ZIP entry is damaged|could not be unpacked/i, 'The ZIP archive is damaged or incomplete'],
  [/could not be read \(was it moved/i, 'The file could not be read (was it moved or deleted?)'],
  [/out of memory/i, 'The file is too large for the memory available to this page'],
  [/^not processed/i, 'Not processed'],
  [/^cannot read the file/i, 'The file is damaged: its DICOM header cannot be read'],
];

const KINDS = {
  not_dicom: 'Not a DICOM file',
  parse: 'The file is damaged: its DICOM header cannot be read',
  write: 'The de-identified file could not be written',
  charset: 'The text uses a character set that cannot be read',
  not_in_subject_map: 'The Patient ID is not in the subject mapping table',
  config: 'The configuration is invalid',
  key: 'A key is needed',
  invalid: 'The file cannot be de-identified safely',
  unsupported: 'Not processed',
  unavailable: 'The de-identification engine could not be loaded',
  memory: 'The file is too large for the memory available to this page',
  read: 'The file could not be read (was it moved or deleted?)',
  zip: 'The ZIP archive is damaged or incomplete',
  internal: 'An internal error stopped this file',
};

/** Plain words for a report's reason (and the error kind, when known). */
export function plainReason(reason, kind) {
  const text = String(reason || '');
  for (const [re, words] of RULES) if (re.test(text)) return words;
  if (kind && KINDS[kind]) return KINDS[kind];
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : 'Unknown problem';
}

export const STATUS_WORDS = {
  waiting: 'Waiting',
  scanning: 'Reading header',
  working: 'De-identifying',
  written: 'Done',
  failed: 'Failed',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
};
