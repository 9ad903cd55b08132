package location

import "testing"

func TestZone(t *testing.T) {
	for _, name := range []string{"Asia/Hong_Kong", "Asia/Hong_Kong", "UTC", "Asia/Taipei"} {
		z, err := Zone(name)
		if err != nil || z.String() != name {
			t.Fatalf("%s: %v %v", name, z, err)
		}
	}
	if _, err := Zone("Mars/Olympus_Mons"); err == nil {
		t.Fatal("an unknown zone loaded")
	}
}
