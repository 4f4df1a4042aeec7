/// Found by the `npy_spectrum` fuzz target: a header with deeply nested brackets sent npyz's
/// backtracking header parser into exponential time. It must be refused at once.
#[test]
fn nested_npy_header_is_refused_quickly() {
    let mut header = String::from("{");
    header.push_str(&"[".repeat(60));
    header.push_str("'descr': '<f8', 'fortran_order': False, 'shape': (2,), }");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 16]);
    let err = gmdiff_gaussian::parse_spectrum(&bytes).unwrap_err().to_string();
    assert!(err.contains("unsupported .npy header"), "{err}");
}
