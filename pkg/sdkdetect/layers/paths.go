package layers

import "path"

// appendCleanPath appends to dst the absolute, clean form of a tar entry
// name: "./app/x", "app//x/" and "/app/x" all become "/app/x". ".." never
// climbs above "/" ("a/../../etc/x" is "/etc/x"), as a container runtime
// clamps such names to its root. The result is never resolved against any
// filesystem.
//
// Names that are already clean apart from a leading "./" or "/" and a
// trailing "/" (what image builders write) take a fast path that does not
// allocate.
func appendCleanPath[S ~string | ~[]byte](dst []byte, name S) []byte {
	rel := name
	for {
		switch {
		case len(rel) >= 2 && rel[0] == '.' && rel[1] == '/':
			rel = rel[2:]
			continue
		case len(rel) >= 1 && rel[0] == '/':
			rel = rel[1:]
			continue
		}
		break
	}
	for len(rel) > 0 && rel[len(rel)-1] == '/' {
		rel = rel[:len(rel)-1]
	}
	dst = append(dst, '/')
	if len(rel) == 0 || (len(rel) == 1 && rel[0] == '.') {
		return dst
	}
	if !cleanElements(rel) {
		return append(dst[:len(dst)-1], path.Clean("/"+string(name))...)
	}
	return append(dst, rel...)
}

// cleanElements reports whether every "/"-separated element of rel is
// non-empty and neither "." nor "..".
func cleanElements[S ~string | ~[]byte](rel S) bool {
	start := 0
	for i := 0; i <= len(rel); i++ {
		if i < len(rel) && rel[i] != '/' {
			continue
		}
		switch el := rel[start:i]; {
		case len(el) == 0, len(el) == 1 && el[0] == '.', len(el) == 2 && el[0] == '.' && el[1] == '.':
			return false
		}
		start = i + 1
	}
	return true
}

// cleanPath is appendCleanPath into a new string.
func cleanPath(name string) string {
	var buf [128]byte
	return string(appendCleanPath(buf[:0], name))
}

// parentDir returns the directory part of a clean absolute path and its last
// element: "/a/b" → "/a", "b"; "/a" → "/", "a".
func parentDir(p string) (dir, base string) {
	i := len(p) - 1
	for i > 0 && p[i] != '/' {
		i--
	}
	if i == 0 {
		return "/", p[1:]
	}
	return p[:i], p[i+1:]
}

// within reports whether the clean absolute path p is dir or lies under it.
func within(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return len(p) >= len(dir) && p[:len(dir)] == dir && (len(p) == len(dir) || p[len(dir)] == '/')
}

// under reports whether the clean absolute path p lies strictly under dir.
func under(p, dir string) bool {
	if dir == "/" {
		return p != "/"
	}
	return len(p) > len(dir) && p[:len(dir)] == dir && p[len(dir)] == '/'
}
