// Command seconds prints a Go duration in whole seconds (for soak.sh).
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	d, err := time.ParseDuration(os.Args[1])
	if err != nil || len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: seconds DURATION")
		os.Exit(2)
	}
	fmt.Println(int(d.Seconds()))
}
