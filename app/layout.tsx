import type { Metadata } from "next";
import type { ReactNode } from "react";
import { ConsoleProviders } from "@/components/trpc";
import "./globals.css";

export const metadata: Metadata = {
  title: "Flotilla",
  description: "Operate fleets of AI coding agents",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <ConsoleProviders>{children}</ConsoleProviders>
      </body>
    </html>
  );
}
