/** Password hashes as earlier versions of Parley wrote them, for the rehash tests. */
import { randomBytes, scrypt } from "node:crypto";

/** A hash with the earlier parameters (N=2^14, r=8, p=1), in the same `scrypt$…` format. */
export async function oldHash(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      password.normalize("NFKC"),
      salt,
      32,
      { N: 16384, r: 8, p: 1 },
      (err, k) => err ? reject(err) : resolve(k),
    )
  );
  return ["scrypt", 16384, 8, 1, salt.toString("base64"), key.toString("base64")].join("$");
}
