package memory_test

import (
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) jwtrevoke.Store { return memory.New() })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(*testing.B) jwtrevoke.Store { return memory.New() })
}
