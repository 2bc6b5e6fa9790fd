import { router } from "../trpc";

export const identityRouter = router({});
