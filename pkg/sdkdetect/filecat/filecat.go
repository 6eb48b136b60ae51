// Package filecat reads Kubernetes client and AWS SDK versions out of
// single files of an image's filesystem: Go executables (module build
// information), Rust executables built with cargo auditable (their
// embedded dependency list), Python distribution metadata, installed Node
// packages, Java archives, .NET deps.json, Ruby gemspecs, Haskell package
// configurations and PHP Composer's installed.json. It is not a general
// SBOM generator: it finds exactly what the catalog needs.
//
// The layer reader (pkg/sdkdetect/layers) streams each layer's tar once and
// offers every regular file to the catalogers; a cataloger says from the
// path, size and first bytes whether it wants the file, and reads it from
// the stream when it does. Nothing is written to disk. Default returns the
// catalogers; they report only the packages of one table (packages.go): the
// catalog's SDKs and the AWS SDKs' credential packages.
package filecat

import (
	"io"
	"io/fs"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// HeadSize is how many leading bytes of a file File.Head holds (fewer when
// the file is shorter).
const HeadSize = 8

// File is one regular file of a layer as the layer reader offers it.
type File struct {
	// Path is absolute and clean: "/app/node_modules/x/package.json".
	Path string
	// Size is the file's length in bytes.
	Size int64
	// Mode carries the permission bits (executable or not).
	Mode fs.FileMode
	// Head is the file's first HeadSize bytes (ELF "\x7fELF", PE "MZ", zip
	// "PK\x03\x04"), so executables and archives are known before reading.
	Head []byte
}

// Found is one package a cataloger found.
type Found struct {
	// Package has Type, Namespace, Name, Version (purl identity) and Source
	// ("layer:go-buildinfo", "layer:python-metadata", ...,
	// "layer:cargo-auditable" for the Rust crates go-buildinfo reads).
	Package policy.Package
	// File is where it was found: the file's Path, or for archives nested in
	// archives "/app/app.jar!/BOOT-INF/lib/client-java-9.0.0.jar".
	File string
}

// Note says a file could not be read completely, so a scan that found no
// SDK cannot claim there is none: a Go executable without module
// information (a GOPATH build), an archive beyond the size cap, a file
// that ended early.
type Note struct {
	File   string
	Reason string
}

// Result is what a cataloger read in one file.
type Result struct {
	Found []Found
	Notes []Note
}

// Cataloger reads one kind of file.
type Cataloger interface {
	// Name is short and stable ("go-buildinfo"); Source values are
	// "layer:" + Name, except go-buildinfo's Rust crates
	// ("layer:cargo-auditable": see NameCargoAuditable).
	Name() string
	// Wants reports whether the cataloger reads f. It is called for every
	// regular file of every layer: it must be cheap and must not allocate.
	// f.Path and f.Head point into the reader's buffers and are valid only
	// during the call: Wants must not keep them (Read gets its own copy).
	Wants(f File) bool
	// Read reads f's content from r, a stream of at most f.Size bytes
	// positioned at the file's start. It must not keep r after returning,
	// must bound what it buffers (Limits), and must return an error only
	// for a failure of r itself (malformed content is a Note or nothing).
	Read(f File, r io.Reader, lim Limits) (Result, error)
}

// Limits bounds what a cataloger buffers.
type Limits struct {
	// MaxFileBytes is the most bytes of one file (or one nested archive
	// member) held in memory at once. Zero means DefaultMaxFileBytes.
	MaxFileBytes int64
}
