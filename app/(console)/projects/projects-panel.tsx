"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { fieldErrors, formError } from "@/components/forms";
import { useTRPC } from "@/components/trpc";

export function ProjectsPanel(props: { canCreate: boolean }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const projects = useQuery(trpc.identity.projects.list.queryOptions());
  const create = useMutation(
    trpc.identity.projects.create.mutationOptions({
      onSuccess: async (project) => {
        await queryClient.invalidateQueries({
          queryKey: trpc.identity.projects.list.queryKey(),
        });
        router.push(`/projects/${project.slug}`);
      },
    }),
  );
  const errors = fieldErrors(create.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      slug: String(form.get("slug")),
      name: String(form.get("name")),
    });
  }

  return (
    <>
      <section className="panel" aria-label="Your projects">
        {projects.isPending && <p className="muted">Loading projects…</p>}
        {projects.error && <p className="error">{projects.error.message}</p>}
        {projects.data?.length === 0 && (
          <p className="muted">No projects yet. Create the first one below.</p>
        )}
        {projects.data && projects.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Project</th>
                <th>Slug</th>
                <th>Your role</th>
              </tr>
            </thead>
            <tbody>
              {projects.data.map((project) => (
                <tr key={project.id}>
                  <td>
                    <Link href={`/projects/${project.slug}`}>
                      {project.name}
                    </Link>
                  </td>
                  <td>
                    <code>{project.slug}</code>
                  </td>
                  <td>
                    <span className="badge muted">{project.role}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {props.canCreate && (
        <section className="panel">
          <h2>New project</h2>
          <form className="stack" onSubmit={submit}>
            <label>
              Slug
              <input name="slug" required placeholder="web-app" />
              {errors.slug && (
                <span className="field-error">{errors.slug}</span>
              )}
            </label>
            <label>
              Name
              <input name="name" placeholder="Web app" />
              {errors.name && (
                <span className="field-error">{errors.name}</span>
              )}
            </label>
            {formError(create.error) && (
              <p className="error" role="alert">
                {formError(create.error)}
              </p>
            )}
            <button type="submit" disabled={create.isPending}>
              Create project
            </button>
          </form>
        </section>
      )}
    </>
  );
}
