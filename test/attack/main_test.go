package attack

import (
	"testing"

	"github.com/podsec/podsec/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
