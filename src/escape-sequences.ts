/**
 * Terminal escape sequences, removed whole from text that came from outside (SMTP
 * replies before they are stored, every line the CLI prints): CSI (`ESC [ … final`, or
 * its one-byte C1 form), OSC/DCS/APC/PM/SOS strings (to BEL or ST) and two-character
 * escapes. One definition, so what is stored and what is printed are cleaned alike.
 */
export const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -~]?)|\x9b[0-?]*[ -/]*[@-~]?|[\x90\x98\x9d-\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g;
