package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON (the `-o json` contract).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// writeJSON writes src as WriteJSON writes a Report of the same content,
// byte for byte, one result at a time.
func writeJSON(w io.Writer, src source) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var scratch bytes.Buffer
	// value writes v as the encoder would at a nesting level whose lines
	// start with prefix.
	value := func(v any, prefix string) error {
		scratch.Reset()
		enc := json.NewEncoder(&scratch)
		enc.SetIndent(prefix, "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := bw.Write(bytes.TrimSuffix(scratch.Bytes(), []byte("\n")))
		return err
	}
	bw.WriteString("{\n  \"results\": [")
	n := 0
	err := src.each(func(r *Result) error {
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		bw.WriteString("\n    ")
		return value(r, "    ")
	})
	if err != nil {
		return err
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]")
	if sk := src.skipped(); len(sk) > 0 {
		bw.WriteString(",\n  \"skipped\": ")
		if err := value(sk, "  "); err != nil {
			return err
		}
	}
	sum := src.counts()
	if sum.Errors > 0 {
		bw.WriteString(",\n  \"errors\": [")
		n := 0
		err := src.eachError(func(e *Error) error {
			if n > 0 {
				bw.WriteByte(',')
			}
			n++
			bw.WriteString("\n    ")
			return value(e, "    ")
		})
		if err != nil {
			return err
		}
		bw.WriteString("\n  ]")
	}
	bw.WriteString(",\n  \"summary\": ")
	if err := value(sum, "  "); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}
