package envelope

import "encoding/binary"

// Purposes of the associated data built here. A new kind of sealed thing gets
// a new purpose; a change of encoding gets a new version suffix.
const (
	purposeVersion = "coffer.version.v1"
)

// VersionAD returns the associated data that binds a version's sealed data to
// its row: project, secret and revision. A ciphertext sealed with the
// VersionAD of one row fails to open with that of any other.
func VersionAD(projectID, secretID string, revision uint32) []byte {
	var rev [4]byte
	binary.BigEndian.PutUint32(rev[:], revision)
	return AD(purposeVersion, []byte(projectID), []byte(secretID), rev[:])
}

// AD encodes a purpose and fields as associated data: each one prefixed by
// its length (unsigned varint), so that distinct (purpose, fields) lists
// always give distinct bytes ("ab"+"c" never collides with "a"+"bc"). Every
// kind of sealed thing uses its own purpose, so associated data made for one
// never authenticates another.
func AD(purpose string, fields ...[]byte) []byte {
	n := binary.MaxVarintLen64 + len(purpose)
	for _, f := range fields {
		n += binary.MaxVarintLen64 + len(f)
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(purpose)))
	b = append(b, purpose...)
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}
