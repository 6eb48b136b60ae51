package sdkdetect

// hex64 is the hex of a sha256 digest, for test references.
const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
