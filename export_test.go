package jwtrevoke

// SetRevocationPage sets how many revocations a page of a
// RevocationPager holds, for a test; it returns the function that puts
// the old value back.
func SetRevocationPage(n int) (restore func()) {
	old := revocationPage
	revocationPage = n
	return func() { revocationPage = old }
}
