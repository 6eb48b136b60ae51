package staletoken

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// Names from audit logs are not trusted: a cell a spreadsheet would run as
// a formula is defused, numbers (negative days left) are left alone.
func TestWriteCSVDefusesFormulas(t *testing.T) {
	subjects := []Subject{{Status: StatusRejected, Namespace: "=HYPERLINK(\"http://x\",\"y\")", ServiceAccount: "+sa", Subject: "@sub",
		Pods: []string{"-pod"}, DaysLeft: -3}}
	var b bytes.Buffer
	if err := WriteCSV(&b, subjects); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %v, %v", rows, err)
	}
	row := rows[1]
	for i, want := range map[int]string{1: `'=HYPERLINK("http://x","y")`, 2: "'+sa", 3: "'@sub", 4: "-3", 11: "'-pod"} {
		if row[i] != want {
			t.Errorf("column %s = %q, want %q", CSVHeader[i], row[i], want)
		}
	}
}
