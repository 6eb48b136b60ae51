// Command chartgen brings the Helm chart's generated files up to date (go
// generate ./charts/ runs it): the values table of charts/tokenguard/
// README.md from the comments of values.yaml, and the chart's copies of
// deploy/ files (charts.Copies). The tests of package charts fail, naming
// this command, while either is stale.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tokenguard/tokenguard/charts"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chartgen:", err)
		os.Exit(1)
	}
}

func run() error {
	values, err := os.ReadFile(filepath.Join(charts.ChartDir(), "values.yaml"))
	if err != nil {
		return err
	}
	docs, err := charts.ValuesDocs(values)
	if err != nil {
		return err
	}
	readmePath := filepath.Join(charts.ChartDir(), "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	updated, err := charts.WithValuesTable(readme, charts.ValuesTable(docs))
	if err != nil {
		return err
	}
	if !bytes.Equal(updated, readme) {
		if err := os.WriteFile(readmePath, updated, 0o644); err != nil {
			return err
		}
		fmt.Println("chartgen: wrote the values table of charts/tokenguard/README.md")
	}
	for _, c := range charts.Copies {
		stale, err := c.Stale()
		if err != nil {
			return err
		}
		if stale {
			if err := c.Refresh(); err != nil {
				return err
			}
			fmt.Printf("chartgen: copied %s to %s\n", c.Deploy, c.Chart)
		}
	}
	return nil
}
