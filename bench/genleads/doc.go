// Command genleads writes a synthetic lead file for the import benchmark:
//
//	go run ./bench/genleads -rows 1000000 -o /tmp/leads-1m.csv
package main
