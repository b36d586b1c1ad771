package main

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// stdin is where --password-stdin reads from (tests replace it).
var stdin io.Reader = os.Stdin

func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
