package reports

import (
	"testing"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
