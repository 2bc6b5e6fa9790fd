import { router } from "../trpc";

export const contextRouter = router({});
